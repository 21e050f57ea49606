using System.Text.Json;

namespace Natter.Messages.Protocol;

/// <summary>The outcome of reading one client frame: the frame, or the error frame to answer with.</summary>
public readonly record struct FrameReadResult(ClientFrame? Frame, ErrorFrame? Error);

/// <summary>Parses client frames and turns every kind of bad input into a documented error code.</summary>
public static class ClientFrameReader
{
    private static readonly HashSet<string> KnownTypes =
        ["send", "open_chat", "sync", "delivered", "read", "history", "ping", "group", "message_info", "typing", "presence", "location", "location_stop"];

    public static FrameReadResult Read(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var frame = JsonSerializer.Deserialize<ClientFrame>(utf8, ProtocolJson.Options);
            return frame is null
                ? Fail(ErrorCodes.MalformedJson, "a frame must be a JSON object")
                : Validate(frame);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or FormatException or InvalidOperationException)
        {
            return Diagnose(utf8, e);
        }
    }

    // Only the failure path pays for a second parse, to say precisely what is wrong.
    private static FrameReadResult Diagnose(ReadOnlySpan<byte> utf8, Exception error)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8.ToArray());
        }
        catch (JsonException)
        {
            return Fail(ErrorCodes.MalformedJson, "the frame is not valid JSON");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return Fail(ErrorCodes.MalformedJson, "a frame must be a JSON object");
            var reference = ReferenceOf(root);
            if (!root.TryGetProperty("type", out var type))
                return Fail(ErrorCodes.MissingField, "the frame has no 'type'", reference);
            if (type.ValueKind != JsonValueKind.String)
                return Fail(ErrorCodes.InvalidField, "'type' must be a string", reference);
            if (!KnownTypes.Contains(type.GetString()!))
                return Fail(ErrorCodes.UnknownType, $"unknown frame type '{type.GetString()}'", reference);
            var chatId = type.GetString() == "send" ? StringProperty(root, "chatId") : null;
            if (error.Message.Contains("missing required properties", StringComparison.Ordinal))
                return Fail(ErrorCodes.MissingField, FirstSentence(error.Message), reference, chatId);
            return Fail(ErrorCodes.InvalidField, FirstSentence(error.Message), reference, chatId);
        }
    }

    // "required" rejects a missing property but not an explicit null, so nulls are refused here.
    private static FrameReadResult Validate(ClientFrame frame) => frame switch
    {
        SendFrame { ChatId: null } f => Fail(ErrorCodes.MissingField, "'chatId' is null", f.ClientMsgId),
        SendFrame { ClientMsgId: null } f => Fail(ErrorCodes.MissingField, "'clientMsgId' is null", chatId: f.ChatId),
        SendFrame { Body: null } f => FailSend(ErrorCodes.MissingField, "'body' is null", f),
        DeliveredFrame { ChatId: null } or ReadFrame { ChatId: null } => Fail(ErrorCodes.MissingField, "'chatId' is null"),
        HistoryFrame { ChatId: null } h => Fail(ErrorCodes.MissingField, "'chatId' is null", h.Rid),
        OpenChatFrame { Peer: null } o => Fail(ErrorCodes.MissingField, "'peer' is null", o.Rid),
        GroupFrame { Action: null } g => Fail(ErrorCodes.MissingField, "'action' is null", g.Rid),
        GroupFrame { UserIds: { } ids } g when ids.Any(string.IsNullOrEmpty) => Fail(ErrorCodes.InvalidField, "'userIds' has an empty entry", g.Rid),
        SendFrame { LiveLocation.DurationSeconds: < 1 or > LiveLocationRequest.MaxSeconds } f =>
            FailSend(ErrorCodes.InvalidField, $"'liveLocation.durationSeconds' must be 1 to {LiveLocationRequest.MaxSeconds}", f),
        LocationFrame { ChatId: null } or LocationStopFrame { ChatId: null } => Fail(ErrorCodes.MissingField, "'chatId' is null"),
        LocationFrame { Body: null } => Fail(ErrorCodes.MissingField, "'body' is null"),
        LocationFrame { Body.Length: > 1024 } => Fail(ErrorCodes.InvalidField, "a position is at most 1024 bytes"),
        TypingFrame { ChatId: null } => Fail(ErrorCodes.MissingField, "'chatId' is null"),
        TypingFrame { State: not ("typing" or "paused") } => Fail(ErrorCodes.InvalidField, "'state' must be \"typing\" or \"paused\""),
        PresenceRequestFrame { UserId: null } p => Fail(ErrorCodes.MissingField, "'userId' is null", p.Rid),
        MessageInfoRequestFrame { ChatId: null } m => Fail(ErrorCodes.MissingField, "'chatId' is null", m.Rid),
        MessageInfoRequestFrame { Seq: < 1 } m => Fail(ErrorCodes.InvalidField, "'seq' must be >= 1", m.Rid),
        SyncFrame { Cursors: { } cursors } when cursors.Keys.Any(string.IsNullOrEmpty) =>
            Fail(ErrorCodes.InvalidField, "'cursors' has an empty chat id"),
        SendFrame f when string.IsNullOrWhiteSpace(f.ChatId) => Fail(ErrorCodes.InvalidField, "'chatId' is empty", f.ClientMsgId),
        SendFrame f when string.IsNullOrWhiteSpace(f.ClientMsgId) || f.ClientMsgId.Length > 64 =>
            FailSend(ErrorCodes.InvalidField, "'clientMsgId' must be 1 to 64 characters", f),
        SendFrame f when f.Body.Length == 0 && f.Media is null => FailSend(ErrorCodes.InvalidField, "'body' is empty", f),
        SendFrame { Media: { } m } f when MediaFrames.Problem(m) is { } problem => FailSend(ErrorCodes.InvalidField, problem, f),
        DeliveredFrame { Seq: < 0 } or ReadFrame { Seq: < 0 } => Fail(ErrorCodes.InvalidField, "'seq' must be >= 0"),
        HistoryFrame { Limit: < 1 or > 500 } h => Fail(ErrorCodes.InvalidField, "'limit' must be 1 to 500", h.Rid),
        _ => new FrameReadResult(frame, null),
    };

    private static string? ReferenceOf(JsonElement root) => StringProperty(root, "clientMsgId") ?? StringProperty(root, "rid");

    private static string? StringProperty(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". Path", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    private static FrameReadResult Fail(string code, string message, string? reference = null, string? chatId = null) =>
        new(null, new ErrorFrame(code, message, reference, ChatId: chatId));

    /// <summary>A refused send: its clientMsgId and chat, which together name it (protocol §5, `error`).</summary>
    private static FrameReadResult FailSend(string code, string message, SendFrame send) =>
        Fail(code, message, send.ClientMsgId, send.ChatId);
}
