namespace Natter.Client.Crypto.Tests;

/// <summary>Hands out given key pairs in order, in place of fresh random ones: how test vectors fix the ephemeral and ratchet keys.</summary>
internal sealed class FixedKeyPairs(params byte[][] privateKeys)
{
    private readonly Queue<byte[]> _next = new(privateKeys);

    public X25519KeyPair Next() =>
        _next.TryDequeue(out var privateKey) ? X25519KeyPair.FromPrivate(privateKey) : throw new InvalidOperationException("No fixed key pair left.");
}
