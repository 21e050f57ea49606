namespace Natter.Client.Crypto;

/// <summary>A parsed envelope: a ratchet message, preceded by the session setup when it is a prekey message.</summary>
public sealed record EnvelopeContents(PreKeySetup? Setup, RatchetMessage Message)
{
    public bool IsPreKeyMessage => Setup is not null;
}
