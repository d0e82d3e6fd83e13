using MatOutcomes.Platform.Outcomes.Projecting;
using MatOutcomes.Platform.Outcomes.Studying;

namespace MatOutcomes.Platform.Outcomes.Cube;

/// <summary>A study's filter compiled against one snapshot: a test on packed keys that only reads
/// the dimensions it restricts, so it may run over any table that keeps them.</summary>
public sealed class CellFilter
{
    private readonly bool[]? _regions, _occupations, _ages, _sexes, _formats, _clinics;
    private readonly int _fromQuarter = int.MinValue, _toQuarter = int.MaxValue;
    private readonly bool _completedOnly;

    public CellFilter(StudyQuery query, CubeSnapshot snapshot)
    {
        Restricted = query.Restricted;
        _regions = Allowed(query.Regions?.Select(r => (int)r), 4);
        _occupations = Allowed(query.Occupations?.Select(o => (int)o), 8);
        _ages = Allowed(query.AgeBands?.Select(a => (int)a), 8);
        _sexes = Allowed(query.Sexes?.Select(s => (int)s), 4);
        _formats = Allowed(query.Formats?.Select(f => (int)f), 4);
        // A clinic the network does not know matches nothing.
        _clinics = Allowed(query.Clinics?.Select(c => snapshot.ClinicIndex(c) ?? -1).Where(i => i >= 0), snapshot.Clinics.Count);
        if (query.FromMonth is { } from) _fromQuarter = Quarters.Index(Quarters.OfMonth(from));
        if (query.ToMonth is { } to) _toQuarter = Quarters.Index(Quarters.OfMonth(to));
        _completedOnly = !query.IncludeActive;
        Key = string.Join(';', Restricted.ToString("D"), Mask(_regions), Mask(_occupations), Mask(_ages), Mask(_sexes), Mask(_formats),
            Mask(_clinics), _fromQuarter, _toQuarter, _completedOnly);
    }

    /// <summary>The cells the filter selects, written down: equal for two filters that select the
    /// same cells of this snapshot however they were spelled (lists in any order, a pooled sex by
    /// either name), so it can key what is remembered of a study's design.</summary>
    public string Key { get; }

    private static string Mask(bool[]? allowed) =>
        allowed is null ? "*" : string.Concat(allowed.Select(a => a ? '1' : '0'));

    /// <summary>The dimensions the filter reads.</summary>
    public Dimension Restricted { get; }

    private static bool[]? Allowed(IEnumerable<int>? values, int size)
    {
        if (values is null) return null;
        var allowed = new bool[Math.Max(size, 1)];
        foreach (var v in values) allowed[v] = true;
        return allowed;
    }

    public bool Matches(long key) =>
        (_regions is null || _regions[(int)PackedKey.Region(key)]) &&
        (_occupations is null || _occupations[(int)PackedKey.Occupation(key)]) &&
        (_ages is null || _ages[(int)PackedKey.AgeBand(key)]) &&
        (_sexes is null || _sexes[(int)PackedKey.Sex(key)]) &&
        (_formats is null || _formats[PackedKey.Format(key)]) &&
        (_clinics is null || (PackedKey.Clinic(key) is var c && c < _clinics.Length && _clinics[c])) &&
        (!_completedOnly || PackedKey.Completed(key)) &&
        (PackedKey.Quarter(key) is var q && q >= _fromQuarter && q <= _toQuarter);
}
