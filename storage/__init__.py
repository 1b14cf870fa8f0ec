"""Everything in Gather that talks to Cassandra: the driver session, schema and repositories."""
