using System.Text.Json;
using System.Text.Json.Serialization;

namespace Natter.Messages;

/// <summary>A user's id: their phone number in E.164 digits, without the plus ("15551230001").</summary>
[JsonConverter(typeof(UserIdJsonConverter))]
public readonly record struct UserId(string Value) : IComparable<UserId>
{
    public int CompareTo(UserId other) => string.CompareOrdinal(Value, other.Value);

    public override string ToString() => Value;

    /// <summary>Normalises "+1 555-123-0001" to "15551230001"; null when it is not a plausible E.164 number.</summary>
    public static UserId? FromPhoneNumber(string? phone)
    {
        if (string.IsNullOrWhiteSpace(phone)) return null;
        var digits = new string(phone.Where(char.IsAsciiDigit).ToArray());
        var onlyAllowed = phone.All(c => char.IsAsciiDigit(c) || c is '+' or ' ' or '-' or '(' or ')');
        return onlyAllowed && digits.Length is >= 7 and <= 15 && digits[0] != '0' ? new UserId(digits) : null;
    }
}

/// <summary>A device of one user: 1 for the first device, then 2, 3, ... (never reused).</summary>
[JsonConverter(typeof(DeviceIdJsonConverter))]
public readonly record struct DeviceId(int Value) : IComparable<DeviceId>
{
    public int CompareTo(DeviceId other) => Value.CompareTo(other.Value);

    public override string ToString() => Value.ToString();
}

/// <summary>
/// A conversation. Direct chats have a deterministic id derived from both members ("d.{low}.{high}");
/// groups a random one ("g." and 20 lowercase hex digits).
/// </summary>
[JsonConverter(typeof(ChatIdJsonConverter))]
public readonly record struct ChatId(string Value) : IComparable<ChatId>
{
    public int CompareTo(ChatId other) => string.CompareOrdinal(Value, other.Value);

    public const string DirectPrefix = "d.";
    public const string GroupPrefix = "g.";
    private const int GroupSuffixLength = 20;

    /// <summary>A new, unguessable group id.</summary>
    public static ChatId NewGroup() =>
        new($"{GroupPrefix}{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(GroupSuffixLength / 2))}");

    /// <summary>True for a well-formed group id.</summary>
    public bool IsGroup =>
        Value is { Length: 2 + GroupSuffixLength } && Value.StartsWith(GroupPrefix, StringComparison.Ordinal)
        && Value.AsSpan(GroupPrefix.Length).IndexOfAnyExcept("0123456789abcdef") < 0;

    public override string ToString() => Value;

    /// <summary>The one direct chat between two users, the same whoever opens it.</summary>
    public static ChatId Direct(UserId a, UserId b)
    {
        var (low, high) = string.CompareOrdinal(a.Value, b.Value) <= 0 ? (a, b) : (b, a);
        return new ChatId($"{DirectPrefix}{low.Value}.{high.Value}");
    }

    /// <summary>The two members a direct chat id names, or null if it is not a well-formed direct chat id.</summary>
    public (UserId, UserId)? DirectMembers()
    {
        if (!Value.StartsWith(DirectPrefix, StringComparison.Ordinal)) return null;
        var parts = Value[DirectPrefix.Length..].Split('.');
        if (parts.Length != 2 || parts[0] == parts[1]) return null;
        var a = UserId.FromPhoneNumber(parts[0]);
        var b = UserId.FromPhoneNumber(parts[1]);
        if (a is null || b is null || a.Value.Value != parts[0] || b.Value.Value != parts[1]) return null;
        return Direct(a.Value, b.Value) == this ? (a.Value, b.Value) : null;
    }
}

public sealed class UserIdJsonConverter : JsonConverter<UserId>
{
    public override UserId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        new(reader.GetString() ?? throw new JsonException("user id must be a string"));

    public override void Write(Utf8JsonWriter writer, UserId value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Value);
}

public sealed class ChatIdJsonConverter : JsonConverter<ChatId>
{
    public override ChatId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        new(reader.GetString() ?? throw new JsonException("chat id must be a string"));

    public override void Write(Utf8JsonWriter writer, ChatId value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Value);
}

public sealed class DeviceIdJsonConverter : JsonConverter<DeviceId>
{
    public override DeviceId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        new(reader.GetInt32());

    public override void Write(Utf8JsonWriter writer, DeviceId value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(value.Value);
}
