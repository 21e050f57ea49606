#!/usr/bin/env python3
"""Independent recomputation of Natter's E2EE test vectors (docs/e2ee-test-vectors.md) with pyca/cryptography.

Shares no code with the C# implementation: run it and compare its lines with the vectors
(`python3 cross_check.py | diff - expected.txt`). Needs `pip install cryptography`.
"""
import base64
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def u32(n): return struct.pack(">I", n)
def x25519(priv): return X25519PrivateKey.from_private_bytes(priv)
def x_pub(priv): return x25519(priv).public_key().public_bytes(*RAW)
def dh(priv, pub): return x25519(priv).exchange(X25519PublicKey.from_public_bytes(pub))
def ed(seed): return Ed25519PrivateKey.from_private_bytes(seed)
def ed_pub(seed): return ed(seed).public_key().public_bytes(*RAW)
def hkdf(ikm, salt, info, length): return HKDF(hashes.SHA256(), length, salt, info.encode()).derive(ikm)
def hmac256(key, data): return hmac.new(key, data, hashlib.sha256).digest()


def kdf_rk(rk, dh_out):
    out = hkdf(dh_out, rk, "natter-ratchet-v1", 64)
    return out[:32], out[32:]


def kdf_ck(ck): return hmac256(ck, b"\x01"), hmac256(ck, b"\x02")


def message_keys(mk):
    out = hkdf(mk, bytes(32), "natter-message-v1", 44)
    return out[:32], out[32:]


def ratchet_message(ratchet_pub, pn, n, mk, ad, plaintext):
    header = ratchet_pub + u32(pn) + u32(n)
    key, nonce = message_keys(mk)
    return b"\x02" + header + ChaCha20Poly1305(key).encrypt(nonce, plaintext, ad + header)


def fingerprint(user_id, key):
    h = b"\x00\x00" + key + user_id.encode()
    for _ in range(5200):
        h = hashlib.sha512(h + key).digest()
    return "".join("%05d" % (int.from_bytes(h[i:i + 5], "big") % 100000) for i in range(0, 30, 5))


def safety_number(user_a, key_a, user_b, key_b):
    a, b = fingerprint(user_a, key_a), fingerprint(user_b, key_b)
    return a + b if user_a.encode() <= user_b.encode() else b + a


rep = lambda b: bytes([b]) * 32
alice_seed, alice_idh, alice_ek, alice_ratchet = rep(0xA1), rep(0xA2), rep(0xA3), rep(0xA4)
bob_seed, bob_idh, bob_spk, bob_opk, bob_ratchet = rep(0xB1), rep(0xB2), rep(0xB3), rep(0xB4), rep(0xB5)
content_key, reply_content_key = bytes(range(0x00, 0x20)), bytes(range(0x20, 0x40))
spk_id, opk_id = 1, 7
out = []
emit = lambda name, value: out.append(f"{name}={value if isinstance(value, str) else value.hex()}")

alice_ik, bob_ik = ed_pub(alice_seed), ed_pub(bob_seed)
emit("alice.identityKey", alice_ik)
emit("alice.identityDhKey", x_pub(alice_idh))
emit("alice.identityDhSignature", ed(alice_seed).sign(b"natter-idh-v1" + x_pub(alice_idh)))
emit("alice.ephemeralKey", x_pub(alice_ek))
emit("alice.ratchetKey", x_pub(alice_ratchet))
emit("bob.identityKey", bob_ik)
emit("bob.identityDhKey", x_pub(bob_idh))
emit("bob.identityDhSignature", ed(bob_seed).sign(b"natter-idh-v1" + x_pub(bob_idh)))
emit("bob.signedPreKey", x_pub(bob_spk))
emit("bob.signedPreKeySignature", ed(bob_seed).sign(b"natter-spk-v1" + u32(spk_id) + x_pub(bob_spk)))
emit("bob.oneTimePreKey", x_pub(bob_opk))

dh1, dh2, dh3 = dh(alice_idh, x_pub(bob_spk)), dh(alice_ek, x_pub(bob_idh)), dh(alice_ek, x_pub(bob_spk))
dh4 = dh(alice_ek, x_pub(bob_opk))
sk = hkdf(b"\xff" * 32 + dh1 + dh2 + dh3 + dh4, bytes(32), "natter-x3dh-v1", 32)
ad = alice_ik + bob_ik
emit("x3dh.sharedKey", sk)
emit("x3dh.sharedKeyWithoutOneTimePreKey", hkdf(b"\xff" * 32 + dh1 + dh2 + dh3, bytes(32), "natter-x3dh-v1", 32))
emit("x3dh.associatedData", ad)

rk1, cks1 = kdf_rk(sk, dh(alice_ratchet, x_pub(bob_spk)))
emit("alice.rootKey1", rk1)
emit("alice.sendingChainKey1", cks1)
mk0, ck_next = kdf_ck(cks1)
emit("message0.messageKey", mk0)
emit("message0.nextChainKey", ck_next)
key0, nonce0 = message_keys(mk0)
emit("message0.aeadKey", key0)
emit("message0.nonce", nonce0)
setup = alice_ik + x_pub(alice_idh) + x_pub(alice_ek) + u32(spk_id) + u32(opk_id)
emit("message0.envelope", b"\x01" + setup + ratchet_message(x_pub(alice_ratchet), 0, 0, mk0, ad, content_key))
emit("body", b"\x01" + ChaCha20Poly1305(content_key).encrypt(bytes(12), "Hello, Bob!".encode(), "chat-0001".encode()))

# Bob: RK = SK, first DH ratchet step on Alice's ratchet key, then a new key of his own (0xB5…).
rk, ckr = kdf_rk(sk, dh(bob_spk, x_pub(alice_ratchet)))
assert ckr == cks1
rk2, cks2 = kdf_rk(rk, dh(bob_ratchet, x_pub(alice_ratchet)))
emit("bob.ratchetKey", x_pub(bob_ratchet))
emit("bob.rootKey2", rk2)
emit("bob.sendingChainKey2", cks2)
mk_reply, _ = kdf_ck(cks2)
emit("reply0.envelope", ratchet_message(x_pub(bob_ratchet), 0, 0, mk_reply, ad, reply_content_key))

emit("safetyNumber", safety_number("+15550001111", alice_ik, "+15550002222", bob_ik))

# Alice's phone (the primary: its identity key is the account key) endorses her laptop from its link code.
laptop_ik, link_secret = ed_pub(rep(0xC1)), bytes(range(0x40, 0x50))
b64url = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")
emit("laptop.identityKey", laptop_ik)
emit("link.code", f"natter-link-v1:15550001111.0123456789abcdef:04213377:{b64url(laptop_ik)}:{b64url(link_secret)}")
emit("link.accountSignature", ed(alice_seed).sign(b"natter-device-v1" + laptop_ik + "15550001111".encode()))
emit("link.mac", hmac256(link_secret, b"natter-link-v1" + alice_ik + laptop_ik))
# And signs the account's device list with the laptop in it, at version 2.
emit("deviceList.signature", ed(alice_seed).sign(b"natter-devices-v1" + struct.pack(">Q", 2) + bytes([2]) + alice_ik + laptop_ik + "15550001111".encode()))
print("\n".join(out))
