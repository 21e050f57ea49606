namespace Natter.Client;

/// <summary>A refusal from the server: the stable error code, its message, and the HTTP status for REST calls.</summary>
public sealed class NatterApiException(string code, string message, int? httpStatus = null)
    : Exception($"{code}: {message}")
{
    public string Code { get; } = code;
    public string ServerMessage { get; } = message;
    public int? HttpStatus { get; } = httpStatus;
}
