namespace Natter.Client.Crypto;

/// <summary>
/// A decrypted envelope whose effects (advanced ratchet, new session, deleted one-time prekey) wait for
/// <see cref="Commit"/>: the facade commits only once the message body decrypted too.
/// </summary>
internal sealed class OpenedEnvelope(byte[] plaintext, bool setUpSession, Action commit)
{
    public byte[] Plaintext { get; } = plaintext;

    /// <summary>True when this prekey message set up a new session.</summary>
    public bool SetUpSession { get; } = setUpSession;

    public void Commit() => commit();
}
