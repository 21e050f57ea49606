using System.Text.Json;
using System.Text.Json.Serialization;

namespace Natter.Messages.Protocol;

/// <summary>The JSON settings of the client protocol: camelCase names, nulls omitted.</summary>
public static class ProtocolJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        AllowOutOfOrderMetadataProperties = true,
    };
}
