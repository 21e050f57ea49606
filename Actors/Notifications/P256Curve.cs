using System.Security.Cryptography;

namespace Natter.Actors.Notifications;

/// <summary>Whether a key is on NIST P-256, the curve of ES256, VAPID and Web Push: its size alone does not say (secp256k1 is 256 bits too).</summary>
public static class P256Curve
{
    private const string Oid = "1.2.840.10045.3.1.7";

    public static bool Holds(ECDsa key)
    {
        var curve = key.ExportParameters(includePrivateParameters: false).Curve;
        // Platforms name an imported named curve by its OID, its friendly name, or both.
        return curve.IsNamed && (curve.Oid.Value == Oid || curve.Oid.FriendlyName is "nistP256" or "ECDSA_P256" or "prime256v1" or "secp256r1");
    }
}
