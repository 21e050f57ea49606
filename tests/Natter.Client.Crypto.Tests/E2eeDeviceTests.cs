using System.Text;

namespace Natter.Client.Crypto.Tests;

public sealed class E2eeDeviceTests
{
    private readonly E2eeDevice _alicePhone = NewDevice("alice", "1");
    private readonly E2eeDevice _aliceLaptop = NewDevice("alice", "2");
    private readonly E2eeDevice[] _bob = [NewDevice("bob", "1"), NewDevice("bob", "2"), NewDevice("bob", "3")];

    [Fact]
    public void One_message_reaches_every_device_and_each_opens_only_its_own_envelope()
    {
        var recipients = _bob.Append(_aliceLaptop).ToList();

        var sealedMessage = _alicePhone.Seal("chat-1", "hi Bob"u8.ToArray(), [], recipients.Select(BundleOf));

        Assert.Equal(recipients.Select(d => d.Address).ToHashSet(), sealedMessage.Envelopes.Keys.ToHashSet());
        foreach (var device in recipients)
        {
            foreach (var other in recipients.Where(o => o != device))
            {
                var before = device.Export();
                Assert.ThrowsAny<InvalidMessageException>(() => OpenFromAlicePhone(device, sealedMessage, envelopeOf: other));
                Assert.Equal(before, device.Export());
            }
            Assert.Equal("hi Bob", OpenFromAlicePhone(device, sealedMessage, envelopeOf: device));
        }

        // The sessions exist now: no bundles needed for the next message.
        var next = _alicePhone.Seal("chat-1", "again"u8.ToArray(), recipients.Select(d => d.Address));
        foreach (var device in recipients) Assert.Equal("again", OpenFromAlicePhone(device, next, envelopeOf: device));
    }

    [Fact]
    public void Replies_turn_the_senders_envelopes_into_ratchet_messages()
    {
        var first = _alicePhone.Seal("chat-1", "hi"u8.ToArray(), [], [BundleOf(_bob[0])]);
        Assert.Equal(Envelope.PreKeyMessageType, first.Envelopes[_bob[0].Address][0]);
        OpenFromAlicePhone(_bob[0], first, envelopeOf: _bob[0]);

        var reply = _bob[0].Seal("chat-1", "hello"u8.ToArray(), [_alicePhone.Address]);
        Assert.Equal(Envelope.RatchetMessageType, reply.Envelopes[_alicePhone.Address][0]);
        Assert.Equal("hello", Encoding.UTF8.GetString(_alicePhone.Open("chat-1", reply.Body, reply.Envelopes[_alicePhone.Address], "bob", "1")));

        var second = _alicePhone.Seal("chat-1", "bye"u8.ToArray(), [_bob[0].Address]);
        Assert.Equal(Envelope.RatchetMessageType, second.Envelopes[_bob[0].Address][0]);
    }

    [Fact]
    public void Sealing_for_a_device_without_session_or_bundle_names_it_and_changes_nothing()
    {
        var error = Assert.Throws<MissingSessionException>(() =>
            _alicePhone.Seal("chat-1", "x"u8.ToArray(), [_bob[1].Address, _bob[2].Address], [BundleOf(_bob[0])]));

        Assert.Equal([_bob[1].Address, _bob[2].Address], error.Devices);
        Assert.False(_alicePhone.HasSession(_bob[0].Address));
        Assert.Equal([_bob[1].Address, _bob[2].Address], _alicePhone.WithoutSession([_bob[1].Address, _bob[2].Address, _alicePhone.Address]));
    }

    [Fact]
    public void A_recipient_holding_the_content_key_cannot_pass_another_body_off_as_the_senders()
    {
        var sealedMessage = _alicePhone.Seal("chat-1", "pay Bob 10"u8.ToArray(), [], [BundleOf(_bob[0]), BundleOf(_bob[1])]);
        // Bob's first device knows the content key, so it can encrypt any body under it...
        var key = _bob[0].OpenContentKey(sealedMessage.Envelopes[_bob[0].Address], sealedMessage.Body, _alicePhone.Address, _alicePhone.Keys.Identity.PublicIdentity);
        var forged = MessageBody.Encrypt("chat-1", "pay Bob 1000"u8.ToArray(), key);

        // ...but the envelope Alice sealed for Bob's other device names her body, not this one.
        var envelope = sealedMessage.Envelopes[_bob[1].Address];
        Assert.Throws<InvalidMessageException>(() =>
            _bob[1].Open("chat-1", forged, envelope, "alice", "1", _alicePhone.Keys.Identity.PublicIdentity));
        // Nothing changed: the real body still opens.
        Assert.Equal("pay Bob 10", System.Text.Encoding.UTF8.GetString(
            _bob[1].Open("chat-1", sealedMessage.Body, envelope, "alice", "1", _alicePhone.Keys.Identity.PublicIdentity)));
    }

    [Fact]
    public void One_forged_bundle_refuses_the_whole_send()
    {
        var forged = BundleOf(_bob[1]) with { SignedPreKey = IdentityKeyPair.Generate().IdentityDhKey.PublicKey };

        Assert.Throws<InvalidBundleException>(() => _alicePhone.Seal("chat-1", "x"u8.ToArray(), [], [BundleOf(_bob[0]), forged]));

        Assert.False(_alicePhone.HasSession(_bob[0].Address));
        Assert.False(_alicePhone.HasSession(_bob[1].Address));
    }

    [Fact]
    public void The_sending_device_is_left_out()
    {
        var sealedMessage = _alicePhone.Seal("chat-1", "x"u8.ToArray(), [_alicePhone.Address], [BundleOf(_alicePhone), BundleOf(_aliceLaptop)]);

        Assert.Equal([_aliceLaptop.Address], sealedMessage.Envelopes.Keys);
    }

    [Fact]
    public void A_new_session_needs_the_senders_verified_identity()
    {
        var sealedMessage = _alicePhone.Seal("chat-1", "x"u8.ToArray(), [], [BundleOf(_bob[0])]);
        var envelope = sealedMessage.Envelopes[_bob[0].Address];
        var mallory = IdentityKeyPair.Generate().PublicIdentity;

        var unknown = Assert.Throws<UntrustedIdentityException>(() => _bob[0].Open("chat-1", sealedMessage.Body, envelope, "alice", "1"));
        Assert.Equal(_alicePhone.Address, unknown.Device);
        Assert.Throws<UntrustedIdentityException>(() => _bob[0].Open("chat-1", sealedMessage.Body, envelope, "alice", "1", mallory));
        Assert.Equal(5, _bob[0].Keys.OneTimePreKeys.Count);

        Assert.Equal("x", Encoding.UTF8.GetString(_bob[0].Open("chat-1", sealedMessage.Body, envelope, "alice", "1",
            _alicePhone.Keys.Identity.PublicIdentity)));
        Assert.Equal(_alicePhone.Keys.Identity.IdentityKey, _bob[0].IdentityOf(_alicePhone.Address)!.IdentityKey);
        Assert.Equal(4, _bob[0].Keys.OneTimePreKeys.Count);
    }

    [Fact]
    public void A_body_that_fails_leaves_the_envelope_unopened()
    {
        var sealedMessage = _alicePhone.Seal("chat-1", "x"u8.ToArray(), [], [BundleOf(_bob[0])]);
        var envelope = sealedMessage.Envelopes[_bob[0].Address];
        var identity = _alicePhone.Keys.Identity.PublicIdentity;

        Assert.Throws<InvalidMessageException>(() => _bob[0].Open("chat-2", sealedMessage.Body, envelope, "alice", "1", identity));

        Assert.False(_bob[0].HasSession(_alicePhone.Address));
        Assert.Equal("x", Encoding.UTF8.GetString(_bob[0].Open("chat-1", sealedMessage.Body, envelope, "alice", "1", identity)));
    }

    [Fact]
    public void Sessions_started_by_both_sides_at_once_converge()
    {
        var fromAlice = _alicePhone.Seal("chat-1", "a1"u8.ToArray(), [], [BundleOf(_bob[0])]);
        var fromBob = _bob[0].Seal("chat-1", "b1"u8.ToArray(), [], [BundleOf(_alicePhone)]);

        Assert.Equal("b1", Open(_alicePhone, fromBob, _bob[0]));
        Assert.Equal("a1", Open(_bob[0], fromAlice, _alicePhone));
        for (var round = 0; round < 4; round++)
        {
            Assert.Equal($"a{round}", Open(_bob[0], _alicePhone.Seal("chat-1", Encoding.UTF8.GetBytes($"a{round}"), [_bob[0].Address]), _alicePhone));
            Assert.Equal($"b{round}", Open(_alicePhone, _bob[0].Seal("chat-1", Encoding.UTF8.GetBytes($"b{round}"), [_alicePhone.Address]), _bob[0]));
        }
        var last = _alicePhone.Seal("chat-1", "converged"u8.ToArray(), [_bob[0].Address]);
        Assert.Equal(Envelope.RatchetMessageType, last.Envelopes[_bob[0].Address][0]);
        Assert.Equal("converged", Open(_bob[0], last, _alicePhone));
    }

    [Fact]
    public void History_transfer_rewraps_an_old_content_key_for_a_new_device()
    {
        var old = _alicePhone.Seal("chat-1", "from last year"u8.ToArray(), [], [BundleOf(_bob[0])]);
        var contentKey = _bob[0].OpenContentKey(old.Envelopes[_bob[0].Address], old.Body, _alicePhone.Address, _alicePhone.Keys.Identity.PublicIdentity);
        var newBobDevice = _bob[1];

        var rewrapped = _bob[0].SealKey(contentKey, newBobDevice.Address, BundleOf(newBobDevice));
        var received = newBobDevice.OpenKey(rewrapped, _bob[0].Address, _bob[0].Keys.Identity.PublicIdentity);

        Assert.Equal(contentKey, received);
        Assert.Equal("from last year", Encoding.UTF8.GetString(MessageBody.Decrypt("chat-1", old.Body, received)));
        Assert.Throws<ArgumentException>(() => _bob[0].SealKey(new byte[31], newBobDevice.Address));
    }

    [Fact]
    public void A_reinstalled_device_is_reached_again_once_the_old_one_is_forgotten()
    {
        Assert.Equal("before", Open(_bob[0], _alicePhone.Seal("chat-1", "before"u8.ToArray(), [], [BundleOf(_bob[0])]), _alicePhone));
        var reinstalled = NewDevice("bob", "1");

        var stale = _alicePhone.Seal("chat-1", "stale"u8.ToArray(), [reinstalled.Address], [BundleOf(reinstalled)]);
        Assert.ThrowsAny<InvalidMessageException>(() => Open(reinstalled, stale, _alicePhone));

        _alicePhone.ForgetDevice(reinstalled.Address);
        Assert.False(_alicePhone.HasSession(reinstalled.Address));
        var fresh = _alicePhone.Seal("chat-1", "after"u8.ToArray(), [], [BundleOf(reinstalled)]);
        Assert.Equal("after", Open(reinstalled, fresh, _alicePhone));
        Assert.Equal(reinstalled.Keys.Identity.IdentityKey, _alicePhone.IdentityOf(reinstalled.Address)!.IdentityKey);
    }

    private static E2eeDevice NewDevice(string userId, string deviceId) => new(new DeviceAddress(userId, deviceId), DeviceKeys.Generate(oneTimePreKeys: 5));

    /// <summary>What the key directory would hand out: the device's bundle with its first unused one-time prekey.</summary>
    private static DevicePreKeyBundle BundleOf(E2eeDevice device) =>
        device.Keys.ToBundle(device.Address.UserId, device.Address.DeviceId, device.Keys.OneTimePreKeys.First().Id);

    private string OpenFromAlicePhone(E2eeDevice device, SealedMessage message, E2eeDevice envelopeOf) =>
        Encoding.UTF8.GetString(device.Open("chat-1", message.Body, message.Envelopes[envelopeOf.Address], "alice", "1",
            _alicePhone.Keys.Identity.PublicIdentity));

    private static string Open(E2eeDevice recipient, SealedMessage message, E2eeDevice sender) =>
        Encoding.UTF8.GetString(recipient.Open("chat-1", message.Body, message.Envelopes[recipient.Address],
            sender.Address.UserId, sender.Address.DeviceId, sender.Keys.Identity.PublicIdentity));
}
