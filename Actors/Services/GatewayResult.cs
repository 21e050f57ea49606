namespace Natter.Actors.Services;

/// <summary>A value, or a refusal with one of the protocol's stable error codes.</summary>
public sealed record GatewayResult<T>(T? Value, string? ErrorCode = null, string? ErrorMessage = null)
{
    public bool Ok => ErrorCode is null;

    public static GatewayResult<T> Success(T value) => new(value);

    public static GatewayResult<T> Fail(string code, string message) => new(default, code, message);
}
