using System.Text;

namespace Natter.Client.Crypto.Tests;

/// <summary>
/// Alice and Bob one session apart, below the facade: envelopes in and out of session records, any plaintext.
/// Alice starts the session from Bob's bundle.
/// </summary>
internal sealed class Conversation
{
    public DeviceKeys AliceKeys { get; } = DeviceKeys.Generate(oneTimePreKeys: 5);
    public DeviceKeys BobKeys { get; } = DeviceKeys.Generate(oneTimePreKeys: 5);
    public SessionRecord Alice { get; } = new();
    public SessionRecord Bob { get; } = new();

    public Conversation(bool withOneTimePreKey = true)
    {
        var bundle = BobKeys.ToBundle("bob", "1", withOneTimePreKey ? BobKeys.OneTimePreKeys.First().Id : null);
        Alice.Promote(null, RatchetSession.Initiate(AliceKeys.Identity, bundle));
    }

    public byte[] AliceSends(string text) => Envelope.Seal(Alice.Current!, Encoding.UTF8.GetBytes(text));
    public byte[] BobSends(string text) => Envelope.Seal(Bob.Current!, Encoding.UTF8.GetBytes(text));

    public string BobOpens(byte[] envelope) =>
        Encoding.UTF8.GetString(Envelope.Open(Bob, BobKeys, envelope, AliceKeys.Identity.PublicIdentity));

    public string AliceOpens(byte[] envelope) =>
        Encoding.UTF8.GetString(Envelope.Open(Alice, AliceKeys, envelope, BobKeys.Identity.PublicIdentity));
}
