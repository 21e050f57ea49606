using Natter.Messages.Protocol;

namespace Natter.Client;

/// <summary>
/// A refusal from the server: the stable error code, its message, and the HTTP status for REST calls.
/// For <c>stale_devices</c>, <see cref="Missing"/> and <see cref="Extra"/> name the devices to add and drop, and
/// <see cref="Changed"/> those whose keys were replaced since this client sealed for them; for a REST
/// <c>rate_limited</c> (429), <see cref="RetryAfter"/> is how long the server asks the caller to wait.
/// </summary>
public sealed class NatterApiException(string code, string message, int? httpStatus = null,
    IReadOnlyList<DeviceRef>? missing = null, IReadOnlyList<DeviceRef>? extra = null, TimeSpan? retryAfter = null,
    IReadOnlyList<DeviceRef>? changed = null)
    : Exception($"{code}: {message}")
{
    public TimeSpan? RetryAfter { get; } = retryAfter;

    public string Code { get; } = code;
    public string ServerMessage { get; } = message;
    public int? HttpStatus { get; } = httpStatus;
    public IReadOnlyList<DeviceRef> Missing { get; } = missing ?? [];
    public IReadOnlyList<DeviceRef> Extra { get; } = extra ?? [];
    public IReadOnlyList<DeviceRef> Changed { get; } = changed ?? [];
}
