namespace Natter.Client.Crypto;

/// <summary>
/// The outcome of X3DH, the same on both sides: the shared key SK that seeds the ratchet, the associated
/// data AD = IK_A || IK_B bound into every message, and the setup the initiator sends in its prekey messages.
/// </summary>
public sealed record X3dhResult(byte[] SharedKey, byte[] AssociatedData, PreKeySetup Setup);
