using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Cube;

/// <summary>One cell of a table: its packed key (rolled up to the table's dimensions) and its statistics.</summary>
public readonly record struct CubeCell(long Key, CellStats Stats);

/// <summary>The cells of one grain: the fine cells, or a roll-up keeping fewer dimensions. A query
/// reads the smallest table that keeps every dimension it needs, so a question that does not split
/// by clinic, quarter or format costs what the covariate patterns cost, however many episodes and
/// clinics the network has.</summary>
public sealed class CubeTable(Dimension kept, CellChunks cells)
{
    public Dimension Kept { get; } = kept;

    /// <summary>The cells (some may be empty: emptied cells keep their place).</summary>
    public CellChunks Cells => cells;

    public int Count => cells.Length;

    public bool Keeps(Dimension dimensions) => (Kept & dimensions) == dimensions;
}

/// <summary>A table's cells in chunks of 4,096 (64 KB, under the large-object threshold), read like
/// an array. The writer that changes a cell after a snapshot was taken copies that cell's chunk, not
/// the table: an update costs what it changes, and the copies die young instead of filling the
/// large-object heap between full collections.</summary>
public readonly struct CellChunks(CubeCell[][] chunks, int length)
{
    public const int Shift = 12;
    public const int Size = 1 << Shift;
    public const int Mask = Size - 1;

    public int Length => length;

    public CubeCell this[int index] => (uint)index < (uint)length
        ? chunks[index >> Shift][index & Mask]
        : throw new IndexOutOfRangeException();

    public Enumerator GetEnumerator() => new(chunks, length);

    public struct Enumerator(CubeCell[][] chunks, int length)
    {
        private int _index = -1;

        public readonly CubeCell Current => chunks[_index >> Shift][_index & Mask];

        public bool MoveNext() => ++_index < length;
    }
}

/// <summary>The outcome read models as of one event sequence, in memory and immutable: any number
/// of requests may read one snapshot while the next is being made.</summary>
public sealed class CubeSnapshot
{
    public CubeSnapshot(long sequence, bool live, IReadOnlyList<string> clinics, IReadOnlyList<CubeTable> tables,
        IReadOnlyDictionary<int, ClinicOutcomes> clinicOutcomes, IReadOnlyDictionary<string, ClinicTally> tallies)
    {
        Sequence = sequence;
        Live = live;
        Clinics = clinics;
        Tables = tables;
        ClinicOutcomes = clinicOutcomes;
        Tallies = tallies;
    }

    public long Sequence { get; }

    /// <summary>Read from the live read models (rather than replayed as of an earlier sequence).</summary>
    public bool Live { get; }

    /// <summary>Clinic ids by index (packed keys hold the index).</summary>
    public IReadOnlyList<string> Clinics { get; }

    /// <summary>The fine table first, then the roll-ups.</summary>
    public IReadOnlyList<CubeTable> Tables { get; }

    public CubeTable Fine => Tables[0];

    /// <summary>Per clinic (by index): running sums for its managers' dashboard.</summary>
    public IReadOnlyDictionary<int, ClinicOutcomes> ClinicOutcomes { get; }

    /// <summary>Per clinic id: sessions by day and pain through care.</summary>
    public IReadOnlyDictionary<string, ClinicTally> Tallies { get; }

    /// <summary>The smallest table that keeps every dimension in <paramref name="needed"/>.</summary>
    public CubeTable TableFor(Dimension needed) =>
        Tables.Where(t => t.Keeps(needed)).MinBy(t => t.Count) ?? Fine;

    /// <summary>A table laid out for scanning (see <see cref="FlatTable"/>), built once per snapshot.</summary>
    public FlatTable Flat(CubeTable table) => Memo($"flat:{table.Kept}", _ => new FlatTable(table));

    public int? ClinicIndex(string clinic)
    {
        for (var i = 0; i < Clinics.Count; i++)
            if (string.Equals(Clinics[i], clinic, StringComparison.Ordinal)) return i;
        return null;
    }

    private readonly Dictionary<string, (Lazy<object> Value, long Used)> _memo = [];
    private readonly Dictionary<string, (Lazy<object> Value, long Used)> _answers = [];
    private readonly Dictionary<string, (Lazy<object> Value, long Used)> _designs = [];
    private readonly Dictionary<string, (Lazy<object> Value, long Used)> _repeated = [];
    /// <summary>Designs asked for once, of the last <see cref="DesignsSeen"/> (keys only).</summary>
    private readonly HashSet<string> _designsSeen = [];
    private const int DesignsSeen = 256;
    private readonly Lock _memoLock = new();
    private long _uses;

    /// <summary>How many query answers a snapshot remembers (the least recently used goes first). Few:
    /// every answer kept outlives the young generation, and with 256 kept the collector copied them
    /// on and on: at 1M events gen-1 pauses went from a median 4.8 ms (max 16) to 2.3 ms (max 4) at
    /// 32, and a network-wide study's p99 from 15-17 to 12-14 ms. A researcher re-running a study
    /// finds it among the last 32.</summary>
    public const int RememberedAnswers = 32;

    /// <summary>A structure derived from this snapshot alone (a flat table, a calculator), computed
    /// once and kept for the snapshot's life: its callers' keys are a small fixed set.</summary>
    public T Memo<T>(string key, Func<CubeSnapshot, T> compute) where T : class => Cached(_memo, int.MaxValue, key, compute);

    /// <summary>The answer to one query, computed once while remembered. Queries are unbounded (every
    /// filter is a key), so at most <see cref="RememberedAnswers"/> are kept, apart from the
    /// structures, which forgetting answers never throws away.</summary>
    public T Remember<T>(string key, Func<CubeSnapshot, T> compute) where T : class => Cached(_answers, RememberedAnswers, key, compute);

    /// <summary>How many study designs (the costly, outcome-free half of a study's statistics) a
    /// snapshot keeps: each is about a megabyte at 200 clinics, so few.</summary>
    public const int RememberedDesigns = 8;

    /// <summary>A study design's outcome-free statistics (see <see cref="Studying.ClusterRobust.Leverage"/>),
    /// kept while remembered: studies that differ only in their outcome definitions share them.</summary>
    public T Design<T>(string key, Func<CubeSnapshot, T> compute) where T : class => Cached(_designs, RememberedDesigns, key, compute);

    /// <summary>How many repeated designs' structures a snapshot keeps: a design's regression sums
    /// (<see cref="Studying.ModelDesign"/>) and its weighting are one each, about 1 and 1.5 MB for a
    /// network-wide study at 1M events, less for a narrower one.</summary>
    public const int RememberedModelDesigns = 8;

    /// <summary>A design's structure, computed and kept only from the second study that asks for it:
    /// null the first time. Distinct studies (most are) then cost neither the structure's building
    /// nor its memory; a sensitivity analysis, which asks again and again, pays once.</summary>
    public T? Repeated<T>(string key, Func<CubeSnapshot, T> compute) where T : class
    {
        lock (_memoLock)
            if (!_repeated.ContainsKey(key))
            {
                if (_designsSeen.Count >= DesignsSeen) _designsSeen.Clear();
                if (_designsSeen.Add(key)) return null;
            }
        return Cached(_repeated, RememberedModelDesigns, key, compute);
    }

    /// <summary>Callers asking for one key at once share one computation (concurrent studies that
    /// need one flat table build it once). When full, the least recently used entry goes: a stream of
    /// distinct studies must not keep throwing away what a researcher is working through.</summary>
    private T Cached<T>(Dictionary<string, (Lazy<object> Value, long Used)> cache, int limit, string key, Func<CubeSnapshot, T> compute)
        where T : class
    {
        Lazy<object> value;
        lock (_memoLock)
        {
            if (cache.TryGetValue(key, out var known)) value = known.Value;
            else
            {
                if (cache.Count >= limit) cache.Remove(cache.MinBy(x => x.Value.Used).Key);
                value = new Lazy<object>(() => compute(this), LazyThreadSafetyMode.ExecutionAndPublication);
            }
            cache[key] = (value, ++_uses);
        }
        try
        {
            return (T)value.Value;
        }
        catch
        {
            // A failure is not remembered: the next caller computes again.
            lock (_memoLock)
                if (cache.TryGetValue(key, out var failed) && ReferenceEquals(failed.Value, value)) cache.Remove(key);
            throw;
        }
    }
}
