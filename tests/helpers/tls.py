"""A throw-away certificate authority for https on 127.0.0.1, made fresh per test session.

`throwaway_tls()` returns a server context (for `Emulator(tls=...)`) holding a certificate for
127.0.0.1 and localhost signed by a CA made a moment ago, and a client context that trusts that
CA and nothing else (for `ElevenLabsEngine(verify=...)`). Certificate checking stays on: the
client verifies the chain and the host name as it would against the real service.

Python's `ssl` loads a server's key only from a file, so the server's certificate and key go to
a private temporary directory for the moment it takes to load them (certificates, not audio).
`server_context(alpn=...)` makes another server context with the same certificate.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class TestTls:
    server: ssl.SSLContext
    client: ssl.SSLContext
    ca_pem: bytes
    chain_pem: bytes  # the server's certificate, then the CA's
    key_pem: bytes  # the server's key (a throw-away, valid for a day)

    __test__ = False  # not a pytest test class

    def server_context(self, alpn: list[str] | None = None) -> ssl.SSLContext:
        """A new server context with the same certificate (e.g. offering HTTP/2 by ALPN)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory(prefix="voicedesk-tls-") as folder:
            cert_file, key_file = Path(folder, "server.pem"), Path(folder, "server.key")
            cert_file.write_bytes(self.chain_pem)
            key_file.write_bytes(self.key_pem)
            context.load_cert_chain(cert_file, key_file)
        if alpn:
            context.set_alpn_protocols(alpn)
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@cache
def throwaway_tls() -> TestTls:
    now = datetime.datetime.now(datetime.UTC)
    valid = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("voicedesk test CA"))
        .issuer_name(_name("voicedesk test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_pem = ca_cert.public_bytes(pem)
    pkcs8, clear = serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    key_pem = key.private_bytes(pem, pkcs8, clear)
    chain_pem = cert.public_bytes(pem) + ca_pem
    client = ssl.create_default_context(cadata=ca_pem.decode())
    tls = TestTls(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), client, ca_pem, chain_pem, key_pem)
    return replace(tls, server=tls.server_context())
