namespace Natter.Client.Crypto;

/// <summary>One message as sent: the body once, and per recipient device an envelope holding its content key.</summary>
public sealed record SealedMessage(byte[] Body, IReadOnlyDictionary<DeviceAddress, byte[]> Envelopes);
