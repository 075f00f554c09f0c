"""The VAPID key: kept in the data dir, or given to every app server through the environment."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.push import keys
from server.settings import load_settings


def test_the_data_dir_key_is_made_once_and_kept(tmp_path: Path) -> None:
    first = keys.load(tmp_path).public_key
    assert keys.load(tmp_path).public_key == first
    assert (tmp_path / keys.KEY_FILE).stat().st_mode & 0o777 == 0o600


def test_a_configured_key_wins_so_several_servers_sign_alike(tmp_path: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    settings = load_settings({"DOORSTEP_DATA_DIR": str(tmp_path), "DOORSTEP_VAPID_PRIVATE_KEY": pem})
    one = keys.load(settings.data_dir, settings.vapid_private_key)
    other = keys.load(tmp_path / "elsewhere", pem)
    assert one.public_key == other.public_key
    assert not (tmp_path / keys.KEY_FILE).exists()


def test_edge_push_hosts_are_allowed_by_default(tmp_path: Path) -> None:
    from server.push.subscriptions import endpoint_allowed

    hosts = load_settings({"DOORSTEP_DATA_DIR": str(tmp_path)}).push_hosts
    assert endpoint_allowed("https://wns2-sg2p.notify.windows.com/w/?token=abc", hosts)
    assert endpoint_allowed("https://fcm.googleapis.com/fcm/send/abc", hosts)
    assert not endpoint_allowed("https://evil.example/notify.windows.com", hosts)
