"""Configuration of a Gather cluster, read from cluster.yaml."""
