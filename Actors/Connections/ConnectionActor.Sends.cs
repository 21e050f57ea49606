using Akka.Actor;
using Natter.Actors.Services;
using Natter.Messages;
using Natter.Messages.Chats;
using Natter.Messages.Protocol;
using static Natter.Messages.Chats.ChatCommands;

namespace Natter.Actors.Connections;

/// <summary>
/// Sends, in the order the device sent them. A sealed send (with envelopes) first has its device set
/// checked, which takes a round trip: sends behind it wait, so a later plain send cannot overtake it.
/// </summary>
public sealed partial class ConnectionActor
{
    private sealed record EnvelopesChecked(SendFrame Send, IReadOnlyList<DeviceEnvelope> Envelopes, GatewayResult<StaleDevices?> Result);

    public static string SendLimitMessage(ConnectionSettings settings) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"at most {settings.SendBurst} sends at once, then {settings.SendsPerSecond:0.###} a second; resend it later with the same clientMsgId");

    public const string SealedSendRequiredMessage = "this server accepts end-to-end encrypted sends only: seal the body and send its envelopes";

    // Sends queued behind a device check (each up to a frame of 2 MiB): bounded per connection.
    private const int MaxWaitingSends = 64;

    private Queue<SendFrame>? _waitingSends; // created with the connection's first send
    private bool _checkingEnvelopes;

    private void OnSend(SendFrame s)
    {
        if (_settings.SendsPerSecond > 0
            && !(_sends ??= new TokenBucket(_settings.SendBurst, _settings.SendsPerSecond)).TryTake(DateTimeOffset.UtcNow))
        {
            Emit(new ErrorFrame(ErrorCodes.RateLimited, SendLimitMessage(_settings), s.ClientMsgId, ChatId: s.ChatId));
            return;
        }
        if (s.Body.Length > _settings.MaxBodyBytes)
        {
            Emit(new ErrorFrame(ErrorCodes.BodyTooLarge, $"a body is at most {_settings.MaxBodyBytes} bytes", s.ClientMsgId, ChatId: s.ChatId));
            return;
        }
        if (!ChatIds.MayBeMember(new ChatId(s.ChatId), _user, out var refusal))
        {
            Emit(new ErrorFrame(refusal.Code, refusal.Message, s.ClientMsgId, ChatId: s.ChatId));
            return;
        }
        if (s.Envelopes is null && _settings.RequireSealedSends)
        {
            Emit(new ErrorFrame(ErrorCodes.SealedSendRequired, SealedSendRequiredMessage, s.ClientMsgId, ChatId: s.ChatId));
            return;
        }
        var waiting = _waitingSends ??= new Queue<SendFrame>();
        if (waiting.Count >= MaxWaitingSends)
        {
            Emit(new ErrorFrame(ErrorCodes.RateLimited, $"at most {MaxWaitingSends} sends wait behind a sealed send's device check; wait for the acks", s.ClientMsgId, ChatId: s.ChatId));
            return;
        }
        waiting.Enqueue(s);
        SendWaiting();
    }

    private void SendWaiting()
    {
        while (!_checkingEnvelopes && _waitingSends is { } waiting && waiting.TryPeek(out var next))
        {
            if (next.Envelopes is null)
            {
                Forward(waiting.Dequeue(), null);
                continue;
            }
            _checkingEnvelopes = true;
            var envelopes = EnvelopesOf(next);
            _gateway.CheckEnvelopesAsync(new ChatId(next.ChatId), _user, _device, envelopes, ChatGateway.SealedFor(next.Envelopes!))
                .PipeTo(Self, success: r => new EnvelopesChecked(next, envelopes, r),
                    failure: e => new EnvelopesChecked(next, envelopes, GatewayResult<StaleDevices?>.Fail(ErrorCodes.Unavailable, e.Message)));
        }
    }

    private void OnEnvelopesChecked(EnvelopesChecked checkedSend)
    {
        _waitingSends!.Dequeue();
        _checkingEnvelopes = false;
        var (send, envelopes, result) = checkedSend;
        if (!result.Ok) Emit(new ErrorFrame(result.ErrorCode!, result.ErrorMessage!, send.ClientMsgId, ChatId: send.ChatId));
        else if (result.Value is { } stale)
            Emit(new ErrorFrame(ErrorCodes.StaleDevices, ChatGateway.Describe(stale), send.ClientMsgId, stale.Missing, stale.Extra, send.ChatId, stale.Changed));
        else Forward(send, envelopes);
        SendWaiting();
    }

    // Told, not asked: the ack comes back to this actor once the message is durable.
    private void Forward(SendFrame s, IReadOnlyList<DeviceEnvelope>? envelopes) =>
        _gateway.Chats.Tell(new SendMessage(new ChatId(s.ChatId), _user, _device, s.ClientMsgId, s.Body, DateTimeOffset.UtcNow,
            s.Media is { } media ? MediaFrames.ToRef(media) : null,
            s.LiveLocation is { } live ? new Natter.Messages.Media.LiveLocation(DateTimeOffset.UtcNow.AddSeconds(live.DurationSeconds)) : null,
            envelopes));

    private static IReadOnlyList<DeviceEnvelope> EnvelopesOf(SendFrame s) =>
        s.Envelopes!.Select(e => new DeviceEnvelope(new UserId(e.UserId), new DeviceId(e.DeviceId), e.Data ?? [])).ToList();
}
