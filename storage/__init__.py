"""Everything in Gather that talks to Cassandra: the local cluster, schema and repositories."""
