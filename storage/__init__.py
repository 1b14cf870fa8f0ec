"""Everything in Gather that talks to Cassandra: the local cluster manager, schema and repositories."""
