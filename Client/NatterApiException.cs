using Natter.Messages.Protocol;

namespace Natter.Client;

/// <summary>
/// A refusal from the server: the stable error code, its message, and the HTTP status for REST calls.
/// For <c>stale_devices</c>, <see cref="Missing"/> and <see cref="Extra"/> name the devices to add and drop.
/// </summary>
public sealed class NatterApiException(string code, string message, int? httpStatus = null,
    IReadOnlyList<DeviceRef>? missing = null, IReadOnlyList<DeviceRef>? extra = null)
    : Exception($"{code}: {message}")
{
    public string Code { get; } = code;
    public string ServerMessage { get; } = message;
    public int? HttpStatus { get; } = httpStatus;
    public IReadOnlyList<DeviceRef> Missing { get; } = missing ?? [];
    public IReadOnlyList<DeviceRef> Extra { get; } = extra ?? [];
}
