"""The one error the local cluster manager raises: its message says what is wrong and what to do."""


class LocalClusterError(RuntimeError):
    """The local Cassandra cluster could not be set up, started or inspected."""
