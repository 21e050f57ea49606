namespace Natter.Client.Crypto.Tests;

public sealed class RatchetSessionTests
{
    private readonly Conversation _chat = new();

    [Fact]
    public void A_long_alternating_conversation_ratchets_both_ways()
    {
        var aliceRatchetKeys = new HashSet<string>();
        var bobRatchetKeys = new HashSet<string>();
        for (var round = 0; round < 40; round++)
        {
            for (var i = 0; i <= round % 4; i++)
            {
                var text = $"alice {round}.{i}";
                var envelope = _chat.AliceSends(text);
                Assert.Equal(round == 0 ? Envelope.PreKeyMessageType : Envelope.RatchetMessageType, envelope[0]);
                aliceRatchetKeys.Add(Hex.Of(Envelope.Parse(envelope).Message.Header.RatchetKey));
                Assert.Equal(text, _chat.BobOpens(envelope));
            }
            for (var i = 0; i <= (round + 2) % 3; i++)
            {
                var text = $"bob {round}.{i}";
                var envelope = _chat.BobSends(text);
                bobRatchetKeys.Add(Hex.Of(Envelope.Parse(envelope).Message.Header.RatchetKey));
                Assert.Equal(text, _chat.AliceOpens(envelope));
            }
        }

        // A new ratchet key per turn on each side: every turn was a DH ratchet step.
        Assert.Equal(40, aliceRatchetKeys.Count);
        Assert.Equal(40, bobRatchetKeys.Count);
        Assert.Null(_chat.Alice.Current!.PendingSetup);
    }

    [Fact]
    public void The_initiator_repeats_the_setup_until_it_hears_back()
    {
        var first = _chat.AliceSends("one");
        var second = _chat.AliceSends("two");

        Assert.Equal(Envelope.PreKeyMessageType, second[0]);
        Assert.Equal(Envelope.Parse(first).Setup!.ToBytes(), Envelope.Parse(second).Setup!.ToBytes());
        // The second arrives first: it sets up the session; the first then finds that session by its base key.
        Assert.Equal("two", _chat.BobOpens(second));
        Assert.Equal("one", _chat.BobOpens(first));
        Assert.Equal("three", _chat.BobOpens(_chat.AliceSends("three")));

        Assert.Equal("hi", _chat.AliceOpens(_chat.BobSends("hi")));
        Assert.Equal(Envelope.RatchetMessageType, _chat.AliceSends("four")[0]);
    }

    [Fact]
    public void Out_of_order_messages_open_within_a_chain_and_across_ratchet_steps()
    {
        Assert.Equal("hello", _chat.BobOpens(_chat.AliceSends("hello")));
        var aliceBatch = Enumerable.Range(0, 10).Select(i => (Text: $"a{i}", Envelope: _chat.AliceSends($"a{i}"))).ToList();
        // Bob answers after seeing only some of them; Alice's later messages start a new chain.
        Assert.Equal("a7", _chat.BobOpens(aliceBatch[7].Envelope));
        Assert.Equal("b0", _chat.AliceOpens(_chat.BobSends("b0")));
        var nextChain = _chat.AliceSends("after the step");

        Assert.Equal("after the step", _chat.BobOpens(nextChain));
        foreach (var i in new[] { 9, 2, 0, 5, 1, 8, 3, 6, 4 }) Assert.Equal(aliceBatch[i].Text, _chat.BobOpens(aliceBatch[i].Envelope));
        Assert.Equal(0, _chat.Bob.Current!.State.Skipped.Count);
    }

    [Fact]
    public void A_message_more_than_max_skip_ahead_is_refused_and_one_just_within_opens()
    {
        var envelopes = Enumerable.Range(0, RatchetSession.MaxSkip + 3).Select(i => _chat.AliceSends($"m{i}")).ToList();
        Assert.Equal("m0", _chat.BobOpens(envelopes[0]));
        var before = _chat.Bob.Export();

        // After m0 Bob expects m1: m1002 would skip 1001 keys.
        Assert.Throws<InvalidMessageException>(() => _chat.BobOpens(envelopes[RatchetSession.MaxSkip + 2]));
        Assert.Equal(before, _chat.Bob.Export());

        Assert.Equal($"m{RatchetSession.MaxSkip + 1}", _chat.BobOpens(envelopes[RatchetSession.MaxSkip + 1]));
        Assert.Equal(RatchetSession.MaxSkip, _chat.Bob.Current!.State.Skipped.Count);
        Assert.Equal("m500", _chat.BobOpens(envelopes[500]));
    }

    [Fact]
    public void Stored_skipped_keys_are_capped_and_the_oldest_go_first()
    {
        Assert.Equal("start", _chat.BobOpens(_chat.AliceSends("start")));
        var oldest = new List<byte[]>();
        for (var chain = 0; chain < 3; chain++)
        {
            var envelopes = Enumerable.Range(0, RatchetSession.MaxSkip + 1).Select(i => _chat.AliceSends($"c{chain}m{i}")).ToList();
            if (chain == 0) oldest = envelopes;
            Assert.Equal($"c{chain}m{RatchetSession.MaxSkip}", _chat.BobOpens(envelopes[^1]));
            Assert.Equal($"b{chain}", _chat.AliceOpens(_chat.BobSends($"b{chain}")));
        }

        Assert.Equal(SkippedMessageKeys.MaxTotal, _chat.Bob.Current!.State.Skipped.Count);
        // The first chain's skipped keys were dropped to make room: those messages are gone for good.
        Assert.Throws<DuplicateMessageException>(() => _chat.BobOpens(oldest[1]));
    }

    [Fact]
    public void A_replayed_message_is_refused_and_the_session_goes_on()
    {
        var first = _chat.AliceSends("first");
        var second = _chat.AliceSends("second");
        _chat.BobOpens(first);
        _chat.BobOpens(second);
        _chat.AliceOpens(_chat.BobSends("reply"));
        var third = _chat.AliceSends("third");
        _chat.BobOpens(third);

        Assert.Throws<DuplicateMessageException>(() => _chat.BobOpens(third));
        Assert.Throws<DuplicateMessageException>(() => _chat.BobOpens(second));
        Assert.Throws<DuplicateMessageException>(() => _chat.BobOpens(first));
        Assert.Equal("fourth", _chat.BobOpens(_chat.AliceSends("fourth")));
    }

    public static TheoryData<string> Tamperings => new() { "ciphertext", "tag", "messageNumber", "previousChainLength", "ratchetKey", "associatedData" };

    [Theory]
    [MemberData(nameof(Tamperings))]
    public void A_tampered_message_is_refused_leaves_the_session_unchanged_and_the_genuine_one_still_opens(string what)
    {
        _chat.BobOpens(_chat.AliceSends("setup"));
        _chat.AliceOpens(_chat.BobSends("ack"));
        // A copy of Alice's session whose associated data names someone else as Bob: same keys, same header.
        var otherAssociatedData = _chat.Alice.Current!.Copy();
        otherAssociatedData.State.AssociatedData = [.. _chat.AliceKeys.Identity.IdentityKey, .. IdentityKeyPair.Generate().IdentityKey];
        var genuine = _chat.AliceSends("genuine");
        const int header = 1;
        var forged = what switch
        {
            "ciphertext" => Tampering.Flip(genuine, header + RatchetHeader.Size),
            "tag" => Tampering.Flip(genuine, genuine.Length - 1),
            "ratchetKey" => Tampering.Flip(genuine, header + 3),
            "previousChainLength" => Tampering.Flip(genuine, header + 32 + 3),
            "messageNumber" => Tampering.Flip(genuine, header + 36 + 3),
            "associatedData" => Envelope.Seal(otherAssociatedData, "genuine"u8),
            _ => throw new ArgumentOutOfRangeException(nameof(what)),
        };
        var before = _chat.Bob.Export();

        Assert.Throws<InvalidMessageException>(() => _chat.BobOpens(forged));

        Assert.Equal(before, _chat.Bob.Export());
        Assert.Equal("genuine", _chat.BobOpens(genuine));
        Assert.Equal("next", _chat.BobOpens(_chat.AliceSends("next")));
        Assert.Equal("back", _chat.AliceOpens(_chat.BobSends("back")));
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0x03, 1, 2, 3 })]
    [InlineData(new byte[] { 0x02, 1, 2, 3 })]
    [InlineData(new byte[] { 0x01, 1, 2, 3 })]
    public void Anything_that_is_not_an_envelope_is_an_invalid_message(byte[] junk)
    {
        Assert.Throws<InvalidMessageException>(() => Envelope.Parse(junk));
        Assert.Throws<InvalidMessageException>(() => _chat.BobOpens(junk));
    }

    [Fact]
    public void A_responder_cannot_send_before_it_received()
    {
        var bob = new SessionRecord();
        var x3dh = X3dh.Initiate(_chat.AliceKeys.Identity, _chat.BobKeys.ToBundle("bob", "1"));
        var responder = RatchetSession.Respond(X3dh.Respond(_chat.BobKeys, x3dh.Setup, _chat.AliceKeys.Identity.PublicIdentity),
            _chat.BobKeys.SignedPreKey, X25519KeyPair.Generate);
        bob.Promote(null, responder);

        Assert.Throws<InvalidOperationException>(() => Envelope.Seal(bob.Current!, [1, 2, 3]));
    }
}
