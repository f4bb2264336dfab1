"""A real three-node Redis Cluster, started once per session by the first test that asks."""

from __future__ import annotations

import pytest
from redis.cluster import RedisCluster as ClusterClient

from queue_service.store.connect import close
from tests.redis_cluster import RedisCluster


@pytest.fixture(scope="session")
def redis_cluster():
    cluster = RedisCluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def cluster_redis(redis_cluster):
    """A cluster client (``decode_responses=True``), every primary flushed around the test."""
    client = ClusterClient.from_url(redis_cluster.url, decode_responses=True)
    client.flushall(target_nodes=ClusterClient.PRIMARIES)
    yield client
    client.flushall(target_nodes=ClusterClient.PRIMARIES)
    close(client)
