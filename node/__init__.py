"""A Gather node: its process, the node link to the other nodes, and the operator shell."""
