"""Tables, the repository of queries, visibility and the Redis connection."""
