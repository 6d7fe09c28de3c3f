using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FtpGateway.Ftp.Users;

/// <summary>
/// The users file, <c>{ "users": [ { "name": ..., "passwordHash": ..., ... } ] }</c>, read into entries with
/// messages an operator can act on: a JSON error with its 1-based line and column, an entry by its number, name
/// and line, a field by its name, a wrong value with what the field takes.
/// </summary>
internal static class UsersFile
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNameCaseInsensitive = true,
        Converters = { new JsonStringEnumConverter(allowIntegerValues: false) },
    };

    private static readonly JsonDocumentOptions Document = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private static readonly Dictionary<string, PropertyInfo> Fields = typeof(UserOptions)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.SetMethod is { IsPublic: true })
        .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The entries of <paramref name="content"/>, each with where it stands (for the messages of later checks).</summary>
    public static List<(UserOptions Options, string Where)> Parse(byte[] content, string file)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content, Document);
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"Users:File '{file}', line {ex.LineNumber + 1}, column {ex.BytePositionInLine + 1}: not valid JSON ({FirstSentence(ex.Message)})", ex);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.EnumerateObject().Any(p => p.NameEquals("users") || p.Name.Equals("users", StringComparison.OrdinalIgnoreCase)))
            {
                throw new InvalidOperationException($"Users:File '{file}': no \"users\" array (the file is {{ \"users\": [ ... ] }})");
            }

            var users = document.RootElement.EnumerateObject().First(p => p.Name.Equals("users", StringComparison.OrdinalIgnoreCase)).Value;
            if (users.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidOperationException($"Users:File '{file}': \"users\" must be an array of users");
            }

            var lines = EntryLines(content);
            var entries = new List<(UserOptions, string)>();
            var number = 0;
            foreach (var element in users.EnumerateArray())
            {
                number++;
                var line = number <= lines.Count ? lines[number - 1] : 0;
                entries.Add(Entry(element, $"Users:File '{file}', entry #{number}", line));
            }

            return entries;
        }
    }

    private static (UserOptions, string) Entry(JsonElement element, string at, int line)
    {
        var name = element.ValueKind == JsonValueKind.Object && element.EnumerateObject().FirstOrDefault(p => p.Name.Equals("name", StringComparison.OrdinalIgnoreCase)) is { Value.ValueKind: JsonValueKind.String } n
            ? n.Value.GetString()
            : null;
        var where = name is null ? $"{at} (line {line})" : $"{at} ('{name}', line {line})";
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidOperationException($"{where}: {Describe(element)} instead of a user");
        }

        var options = new UserOptions();
        foreach (var field in element.EnumerateObject())
        {
            if (!Fields.TryGetValue(field.Name, out var property))
            {
                throw new InvalidOperationException($"{where}: unknown field '{field.Name}' (the fields are {string.Join(", ", Fields.Values.Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)))})");
            }

            try
            {
                property.SetValue(options, field.Value.Deserialize(property.PropertyType, Json));
            }
            catch (JsonException ex)
            {
                throw new InvalidOperationException($"{where}: '{field.Name}' must be {Expected(property.PropertyType)}, not {Describe(field.Value)}", ex);
            }
        }

        return (options, where);
    }

    /// <summary>The 1-based line each entry of the "users" array starts on.</summary>
    private static List<int> EntryLines(byte[] content)
    {
        var reader = new Utf8JsonReader(content, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var starts = new List<int>();
        var inUsers = false;
        var (line, counted) = (1, 0); // lines counted up to the byte 'counted': each byte is looked at once
        while (reader.Read())
        {
            if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName)
            {
                inUsers = reader.GetString()!.Equals("users", StringComparison.OrdinalIgnoreCase);
            }
            else if (inUsers && reader.CurrentDepth == 2 && reader.TokenType is not (JsonTokenType.EndObject or JsonTokenType.EndArray))
            {
                var start = (int)reader.TokenStartIndex;
                line += content.AsSpan(counted, start - counted).Count((byte)'\n');
                counted = start;
                starts.Add(line);
            }
        }

        return starts;
    }

    private static string Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            _ when type == typeof(string) => "a string",
            _ when type == typeof(int) || type == typeof(long) => "a whole number",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(TimeSpan) => "a duration such as \"00:10:00\"",
            _ when type.IsEnum => "one of " + string.Join(", ", Enum.GetNames(type)),
            _ when type == typeof(List<string>) => "a list of strings",
            _ => type.Name,
        };
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => "null",
        JsonValueKind.String => $"\"{LogText.Sanitize(value.GetString()!)}\"",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        _ => LogText.Sanitize(value.GetRawText()),
    };

    /// <summary>The reader's message without its own (0-based) position and path.</summary>
    private static string FirstSentence(string message)
    {
        foreach (var tail in new[] { " LineNumber:", " Path:" })
        {
            var cut = message.IndexOf(tail, StringComparison.Ordinal);
            message = cut < 0 ? message : message[..cut];
        }

        return message.TrimEnd('.', ' ');
    }
}
