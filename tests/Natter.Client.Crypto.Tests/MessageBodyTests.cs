using System.Text;

namespace Natter.Client.Crypto.Tests;

public sealed class MessageBodyTests
{
    [Fact]
    public void A_body_opens_with_its_chat_and_key()
    {
        var (body, contentKey) = MessageBody.Encrypt("chat-1", "hello group"u8);

        Assert.Equal(MessageBody.Version, body[0]);
        Assert.Equal(1 + "hello group".Length + 16, body.Length);
        Assert.Equal(32, contentKey.Length);
        Assert.Equal("hello group", Encoding.UTF8.GetString(MessageBody.Decrypt("chat-1", body, contentKey)));
    }

    [Fact]
    public void Every_body_gets_a_fresh_content_key()
    {
        var first = MessageBody.Encrypt("chat-1", "same"u8);
        var second = MessageBody.Encrypt("chat-1", "same"u8);

        Assert.NotEqual(first.ContentKey, second.ContentKey);
        Assert.NotEqual(first.Body, second.Body);
    }

    [Fact]
    public void A_body_moved_to_another_chat_or_opened_with_another_key_is_refused()
    {
        var (body, contentKey) = MessageBody.Encrypt("chat-1", "secret"u8);

        Assert.Throws<InvalidMessageException>(() => MessageBody.Decrypt("chat-2", body, contentKey));
        Assert.Throws<InvalidMessageException>(() => MessageBody.Decrypt("chat-1", body, Tampering.Flip(contentKey, 0)));
        Assert.Throws<InvalidMessageException>(() => MessageBody.Decrypt("chat-1", Tampering.Flip(body, 3), contentKey));
        Assert.Throws<InvalidMessageException>(() => MessageBody.Decrypt("chat-1", Tampering.Flip(body, 0, 0x03), contentKey));
        Assert.Throws<InvalidMessageException>(() => MessageBody.Decrypt("chat-1", body[..16], contentKey));
        Assert.Throws<ArgumentException>(() => MessageBody.Decrypt("chat-1", body, contentKey[..31]));
    }

    [Fact]
    public void An_empty_body_round_trips()
    {
        var (body, contentKey) = MessageBody.Encrypt("chat-1", ReadOnlySpan<byte>.Empty);

        Assert.Empty(MessageBody.Decrypt("chat-1", body, contentKey));
    }
}
