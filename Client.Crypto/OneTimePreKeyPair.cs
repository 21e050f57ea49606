namespace Natter.Client.Crypto;

/// <summary>
/// A one-time X25519 prekey with its private half: handed out to one initiator, deleted once used.
/// (Named …Pair so it does not clash with the server's public <c>Natter.Messages.Users.OneTimePreKey</c>.)
/// </summary>
public sealed class OneTimePreKeyPair
{
    /// <summary>The id a prekey message carries when no one-time prekey was used; never a real id.</summary>
    public const uint NoneId = 0xFFFFFFFF;

    private OneTimePreKeyPair(uint id, X25519KeyPair keyPair)
    {
        if (id == NoneId) throw new ArgumentOutOfRangeException(nameof(id), "0xFFFFFFFF means 'no one-time prekey' on the wire.");
        Id = id;
        KeyPair = keyPair;
    }

    public uint Id { get; }
    public byte[] PublicKey => KeyPair.PublicKey;
    internal X25519KeyPair KeyPair { get; }

    public static OneTimePreKeyPair Generate(uint id) => new(id, X25519KeyPair.Generate());

    public static OneTimePreKeyPair FromPrivate(uint id, ReadOnlySpan<byte> privateKey) => new(id, X25519KeyPair.FromPrivate(privateKey));
}
