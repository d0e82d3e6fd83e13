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

    private readonly Dictionary<string, Lazy<object>> _memo = [];
    private readonly Dictionary<string, Lazy<object>> _answers = [];
    private readonly Dictionary<string, Lazy<object>> _designs = [];
    private readonly Lock _memoLock = new();

    /// <summary>How many query answers a snapshot remembers before it forgets them all.</summary>
    public const int RememberedAnswers = 256;

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

    /// <summary>Callers asking for one key at once share one computation (concurrent studies that
    /// need one flat table build it once).</summary>
    private T Cached<T>(Dictionary<string, Lazy<object>> cache, int limit, string key, Func<CubeSnapshot, T> compute) where T : class
    {
        Lazy<object> value;
        lock (_memoLock)
        {
            if (!cache.TryGetValue(key, out value!))
            {
                if (cache.Count >= limit) cache.Clear();
                cache[key] = value = new Lazy<object>(() => compute(this), LazyThreadSafetyMode.ExecutionAndPublication);
            }
        }
        try
        {
            return (T)value.Value;
        }
        catch
        {
            // A failure is not remembered: the next caller computes again.
            lock (_memoLock)
                if (cache.TryGetValue(key, out var failed) && ReferenceEquals(failed, value)) cache.Remove(key);
            throw;
        }
    }
}
