"""Content-addressed blob storage."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk import storage
from helpdesk.errors import AttachmentTooLargeError, NotFoundError
from helpdesk.storage import BlobStore


@pytest.fixture
def store(tmp_path):
    return BlobStore(tmp_path / "blobs", max_bytes=100)


def files(store: BlobStore) -> list[str]:
    return sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())


def test_put_stores_under_the_sha256_and_get_reads_it_back(store):
    data = "Hoá đơn tháng 3".encode()
    digest = store.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert files(store) == [f"{digest[:2]}/{digest[2:4]}/{digest}"]
    assert store.get(digest) == data
    assert store.path_for(digest).read_bytes() == data


def test_the_same_bytes_are_stored_once(store):
    assert store.put(b"same") == store.put(b"same")
    store.put(b"other")
    assert len(files(store)) == 2
    assert not [f for f in files(store) if ".tmp-" in f]


def test_size_limit_is_inclusive(store):
    store.check_size(100)
    with pytest.raises(AttachmentTooLargeError) as raised:
        store.check_size(101, "big.pdf")
    assert raised.value.status == 413
    assert raised.value.extra == {"limit": 100}
    assert "big.pdf" in raised.value.detail


@pytest.mark.parametrize(
    "digest",
    ["", "abc", "../../etc/passwd", "A" * 64, "g" * 64, "0" * 63, "0" * 65, "0" * 62 + "/x"],
)
def test_malformed_digests_are_not_found(store, digest):
    with pytest.raises(NotFoundError):
        store.get(digest)


def test_missing_blob_is_not_found(store):
    with pytest.raises(NotFoundError):
        store.get(hashlib.sha256(b"never stored").hexdigest())


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300))
def test_round_trip_of_any_bytes(tmp_path_factory, data):
    store = BlobStore(tmp_path_factory.mktemp("blobs"), max_bytes=1000)
    assert store.get(store.put(data)) == data


def test_unconfigured_store_fails_clearly(monkeypatch):
    monkeypatch.setattr(storage._Configured, "store", None)
    with pytest.raises(RuntimeError, match="configure_blob_store"):
        storage.blob_store()


def test_configured_store_is_returned(monkeypatch, store):
    monkeypatch.setattr(storage._Configured, "store", None)
    storage.configure_blob_store(store)
    assert storage.blob_store() is store
