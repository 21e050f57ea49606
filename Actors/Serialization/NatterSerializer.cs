using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using SerializationException = System.Runtime.Serialization.SerializationException;

namespace Natter.Actors.Serialization;

/// <summary>
/// The one serializer for everything Natter stores or sends between nodes: System.Text.Json payloads under
/// short, stable manifests from <see cref="Manifests"/>, so renaming a CLR type never breaks a stored event.
/// </summary>
public sealed class NatterSerializer : SerializerWithStringManifest
{
    public const int SerializerId = 7210;

    private readonly JsonSerializerOptions _options;

    public NatterSerializer(ExtendedActorSystem system) : base(system)
    {
        _options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
            Converters = { new ActorRefJsonConverter(system) },
        };
    }

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        Manifests.ByType.TryGetValue(o.GetType(), out var manifest)
            ? manifest
            : throw new SerializationException($"No Natter manifest for {o.GetType().FullName}; add it to Manifests.");

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), _options);

    public override object FromBinary(byte[] bytes, string manifest) =>
        Manifests.ByName.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, _options)
              ?? throw new SerializationException($"Empty payload for manifest '{manifest}'")
            : throw new SerializationException($"Unknown Natter manifest '{manifest}'");

    /// <summary>Actor references travel as their full serialized path and resolve on the receiving node.</summary>
    private sealed class ActorRefJsonConverter(ExtendedActorSystem system) : JsonConverter<IActorRef>
    {
        public override IActorRef Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            system.Provider.ResolveActorRef(reader.GetString()!);

        public override void Write(Utf8JsonWriter writer, IActorRef value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Akka.Serialization.Serialization.SerializedActorPath(value));
    }
}
