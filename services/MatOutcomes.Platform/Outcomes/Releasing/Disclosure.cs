using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Releasing;

/// <summary>The atoms of a grid (the pooled values of some restricted dimensions, crossed with the
/// pain-duration bands when the figures split by them), with per measure the contributors and a
/// fingerprint of their statistics.</summary>
public sealed class Atoms
{
    private readonly Dictionary<long, (long[] Counts, ulong[] Prints)> _atoms = [];

    public IReadOnlyDictionary<long, (long[] Counts, ulong[] Prints)> ByKey => _atoms;

    public long Total(Measure measure) => _atoms.Values.Sum(a => a.Counts[(int)measure]);

    private void Add(long key, ReadOnlySpan<long> counts, ReadOnlySpan<ulong> prints)
    {
        if (!_atoms.TryGetValue(key, out var atom)) _atoms[key] = atom = (new long[Measures.Count], new ulong[Measures.Count]);
        for (var m = 0; m < Measures.Count; m++)
        {
            atom.Counts[m] += counts[m];
            atom.Prints[m] += prints[m];
        }
    }

    /// <summary>Each clinic's atoms of a grid (its key without the clinic), in one pass.</summary>
    public static IReadOnlyDictionary<string, Atoms> PerClinic(CubeSnapshot snapshot, Dimension grid, CellMeasures measures)
    {
        var perClinic = new Dictionary<int, Atoms>();
        var mask = PackedKey.Mask(grid);
        var table = snapshot.TableFor(grid | Dimension.Clinic);
        var (counts, prints) = measures.Of(table);
        for (var i = 0; i < table.Count; i++)
        {
            var cell = table.Cells[i];
            if (cell.Stats.Episodes == 0 && cell.Stats.Slots.Length == 0) continue;
            var clinic = PackedKey.Clinic(cell.Key);
            if (!perClinic.TryGetValue(clinic, out var atoms)) perClinic[clinic] = atoms = new Atoms();
            atoms.Add(Pooling.Normalize(cell.Key) & mask, counts.AsSpan(i * Measures.Count, Measures.Count), prints.AsSpan(i * Measures.Count, Measures.Count));
        }
        return perClinic.ToDictionary(c => snapshot.Clinics[c.Key], c => c.Value, StringComparer.Ordinal);
    }

    public static Atoms Sum(IEnumerable<Atoms> parts)
    {
        var sum = new Atoms();
        foreach (var part in parts)
            foreach (var (key, atom) in part._atoms) sum.Add(key, atom.Counts, atom.Prints);
        return sum;
    }

    public static Atoms Of(CubeSnapshot snapshot, Dimension grid, CellMeasures measures)
    {
        var atoms = new Atoms();
        var mask = PackedKey.Mask(grid);
        var table = snapshot.TableFor(grid);
        var (counts, prints) = measures.Of(table);
        for (var i = 0; i < table.Count; i++)
        {
            var cell = table.Cells[i];
            if (cell.Stats.Episodes == 0 && cell.Stats.Slots.Length == 0) continue;
            atoms.Add(Pooling.Normalize(cell.Key) & mask, counts.AsSpan(i * Measures.Count, Measures.Count), prints.AsSpan(i * Measures.Count, Measures.Count));
        }
        return atoms;
    }

    /// <summary>Every atom holds no contributor to the measure or at least k.</summary>
    public bool Publishable(Measure measure, int k) => _atoms.Values.All(a => a.Counts[(int)measure] is 0 || a.Counts[(int)measure] >= k);

    /// <summary>Every atom's figures for the measure are the same as in <paramref name="before"/>,
    /// or its contributors moved by at least k: a difference of the two never rests on fewer than k.</summary>
    public bool MovedInSteps(Atoms before, Measure measure, int k)
    {
        var m = (int)measure;
        foreach (var key in _atoms.Keys.Union(before._atoms.Keys))
        {
            var (nowCount, nowPrint) = _atoms.TryGetValue(key, out var now) ? (now.Counts[m], now.Prints[m]) : (0L, 0UL);
            var (thenCount, thenPrint) = before._atoms.TryGetValue(key, out var then) ? (then.Counts[m], then.Prints[m]) : (0L, 0UL);
            if (nowPrint == thenPrint && nowCount == thenCount) continue;
            if (Math.Abs(nowCount - thenCount) < k) return false;
        }
        return true;
    }
}

/// <summary>Each cell's contributors and fingerprint per measure, worked out once per table for one
/// decision (its 128 grids read the same few tables again and again) and dropped with it: kept on
/// the cells, they cost every node some 20 MB at 1M events for something used once per release.</summary>
public sealed class CellMeasures
{
    private readonly Dictionary<CubeTable, (long[] Counts, ulong[] Prints)> _tables = new(ReferenceEqualityComparer.Instance);

    /// <summary>Cell i's figures for measure m are at [i × <see cref="Measures.Count"/> + m].</summary>
    public (long[] Counts, ulong[] Prints) Of(CubeTable table)
    {
        if (_tables.TryGetValue(table, out var known)) return known;
        var counts = new long[table.Count * Measures.Count];
        var prints = new ulong[table.Count * Measures.Count];
        for (var i = 0; i < table.Count; i++)
        {
            var stats = table.Cells[i].Stats;
            Measures.Counts(stats, counts.AsSpan(i * Measures.Count, Measures.Count));
            Measures.Fingerprints(stats, prints.AsSpan(i * Measures.Count, Measures.Count));
        }
        return _tables[table] = (counts, prints);
    }
}

/// <summary>What one release may publish, decided once when it is cut, for every combination of
/// restricted dimensions a study can make (2^7 grids) and every measure:
/// <list type="bullet">
/// <item>in space, every atom of the grid (pooled values × pain-duration bands, network-wide, whatever
/// values a study selects) holds no contributor to the measure or at least k, so two studies of one
/// release differ by whole atoms of at least k;</item>
/// <item>in time, every atom's figures are unchanged since the last release in which this grid and
/// measure were published, or its contributors moved by at least k, so two releases of one study
/// differ by changes of at least k patients.</item>
/// </list>
/// A study then costs one lookup to decide, before anything is computed.</summary>
public sealed class Disclosure
{
    /// <summary>The dimensions a study may restrict, in grid-index bit order.</summary>
    public static readonly Dimension[] Restrictable =
    [
        Dimension.Clinic, Dimension.Quarter, Dimension.Format, Dimension.Region, Dimension.Occupation, Dimension.AgeBand, Dimension.Sex,
    ];

    public const int Grids = 1 << 7;

    public static int GridOf(Dimension restricted)
    {
        var index = 0;
        for (var i = 0; i < Restrictable.Length; i++)
            if (restricted.HasFlag(Restrictable[i])) index |= 1 << i;
        return index;
    }

    public static Dimension DimensionsOf(int grid) =>
        Enumerable.Range(0, Restrictable.Length).Where(i => (grid & (1 << i)) != 0).Aggregate(Dimension.None, (d, i) => d | Restrictable[i]);

    /// <summary>Per grid: bit m set when measure m may be published (both rules).</summary>
    public int[] Safe { get; init; } = new int[Grids];

    /// <summary>Per grid: bit m set when measure m passes the rule in space (else it failed in time).</summary>
    public int[] SafeInSpace { get; init; } = new int[Grids];

    /// <summary>Per grid × measure: the last release (number) that published it; 0 = none yet.</summary>
    public int[] LastPublished { get; init; } = new int[Grids * Measures.Count];

    /// <summary>Per grid: bit m set when measure m passes the rule in time alone, judged against the
    /// last release that passed it (for figures whose own complementary suppression protects them
    /// in space, such as the trend's withheld quarters).</summary>
    public int[] SafeInTime { get; init; } = new int[Grids];

    /// <summary>Per grid × measure: the last release whose atoms passed the rule in time.</summary>
    public int[] LastInTime { get; init; } = new int[Grids * Measures.Count];

    /// <summary>Per grid: the clinics whose benchmarks a study restricting it may show, with the
    /// release that last showed each (benchmarks are decided clinic by clinic).</summary>
    public Dictionary<int, Dictionary<string, int>> Benchmarked { get; init; } = [];

    /// <summary>The clinics whose episode counts may be listed, with the release that last listed each.</summary>
    public Dictionary<string, int> Counted { get; init; } = [];

    public bool Allows(Dimension restricted, Measure measure) => (Safe[GridOf(restricted)] & (1 << (int)measure)) != 0;

    public bool AllowsInTime(Dimension restricted, Measure measure) => Published && (SafeInTime[GridOf(restricted)] & (1 << (int)measure)) != 0;

    /// <summary>Before the first release: nothing may be published.</summary>
    public static Disclosure Unpublished { get; } = new() { Published = false };

    public bool Published { get; init; } = true;

    public const string NotYet =
        "No release has been published yet: research figures come from releases, cut on a schedule (Privacy:Release:Interval) or by an admin (POST /api/releases).";

    public const string InSpace =
        "A combination of the restricted dimensions (with pain-duration bands) holds fewer than k contributors to this figure; " +
        "answering would let two studies be subtracted to reveal them.";

    public const string InTime =
        "Since the last release that published this, fewer than k contributors to this figure changed in some combination of the " +
        "restricted dimensions; publishing it would let two releases be subtracted to reveal them. It returns once k or more have changed.";

    /// <summary>Why a measure is withheld for a study restricting these dimensions; null when it is not.</summary>
    public string? Reason(Dimension restricted, Measure measure) =>
        Allows(restricted, measure) ? null
        : !Published ? NotYet
        : (SafeInSpace[GridOf(restricted)] & (1 << (int)measure)) == 0 ? InSpace : InTime;

    public IReadOnlySet<string> BenchmarkedClinics(Dimension restricted) =>
        Benchmarked.TryGetValue(GridOf(restricted), out var clinics) ? clinics.Keys.ToHashSet(StringComparer.Ordinal) : new HashSet<string>();

    /// <summary>Decides release <paramref name="number"/> from its cells and the releases before it.</summary>
    /// <param name="releaseAt">The snapshot of an earlier release, by number (the previous one is usually at hand).</param>
    public static async Task<Disclosure> DecideAsync(int number, CubeSnapshot snapshot, Disclosure? previous,
        Func<int, Task<CubeSnapshot>> releaseAt, int k)
    {
        var decided = new Disclosure();
        var measures = new CellMeasures();
        var earlier = new Dictionary<int, CubeSnapshot>();
        async Task<CubeSnapshot> At(int release) => earlier.TryGetValue(release, out var known) ? known : earlier[release] = await releaseAt(release);

        for (var grid = 0; grid < Grids; grid++)
        {
            var dimensions = DimensionsOf(grid) | Dimension.Duration;
            var now = Atoms.Of(snapshot, dimensions, measures);
            var before = new Dictionary<int, Atoms>();
            for (var m = 0; m < Measures.Count; m++)
            {
                var measure = (Measure)m;
                var last = previous?.LastPublished[grid * Measures.Count + m] ?? 0;
                var inSpace = now.Publishable(measure, k);
                var inTime = true;
                if (inSpace && last > 0)
                {
                    if (!before.TryGetValue(last, out var then)) before[last] = then = Atoms.Of(await At(last), dimensions, measures);
                    inTime = now.MovedInSteps(then, measure, k);
                }
                if (inSpace) decided.SafeInSpace[grid] |= 1 << m;
                if (inSpace && inTime) decided.Safe[grid] |= 1 << m;
                decided.LastPublished[grid * Measures.Count + m] = inSpace && inTime ? number : last;

                var lastInTime = previous?.LastInTime[grid * Measures.Count + m] ?? 0;
                var alone = true;
                if (lastInTime > 0)
                {
                    if (!before.TryGetValue(lastInTime, out var then)) before[lastInTime] = then = Atoms.Of(await At(lastInTime), dimensions, measures);
                    alone = now.MovedInSteps(then, measure, k);
                }
                if (alone) decided.SafeInTime[grid] |= 1 << m;
                decided.LastInTime[grid * Measures.Count + m] = alone ? number : lastInTime;
            }

            decided.Benchmarked[grid] = await ClinicByClinicAsync(number, snapshot, DimensionsOf(grid), Measure.Latest, measures,
                previous?.Benchmarked.GetValueOrDefault(grid) ?? [], previous is not null, At, k);
        }
        foreach (var (clinic, release) in await ClinicByClinicAsync(number, snapshot, Dimension.None, Measure.Episodes, measures,
                     previous?.Counted ?? [], previous is not null, At, k))
            decided.Counted[clinic] = release;
        return decided;
    }

    /// <summary>Clinic by clinic (benchmarks; episode counts): a clinic is shown when every atom of its own (the
    /// restricted dimensions' pooled values) holds 0 or at least k scored patients and, since it was
    /// last shown, changed by nothing or by at least k. The clinics not shown are the network total
    /// minus the shown ones, so together they too must be 0 or at least k in every atom, and move in
    /// steps of k since the previous release: while they do not, the smallest shown clinic joins them
    /// (complementary suppression).</summary>
    private static async Task<Dictionary<string, int>> ClinicByClinicAsync(int number, CubeSnapshot snapshot, Dimension restricted,
        Measure measure, CellMeasures measures, IReadOnlyDictionary<string, int> shownBefore, bool hasPrevious, Func<int, Task<CubeSnapshot>> at, int k)
    {
        var perClinic = Atoms.PerClinic(snapshot, restricted, measures);
        var earlier = new Dictionary<int, IReadOnlyDictionary<string, Atoms>>();

        var shown = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (clinic, atoms) in perClinic)
        {
            if (atoms.Total(measure) == 0 || !atoms.Publishable(measure, k)) continue;
            if (shownBefore.TryGetValue(clinic, out var last) && last > 0)
            {
                if (!earlier.TryGetValue(last, out var then)) earlier[last] = then = Atoms.PerClinic(await at(last), restricted, measures);
                if (!atoms.MovedInSteps(then.GetValueOrDefault(clinic) ?? new Atoms(), measure, k)) continue;
            }
            shown[clinic] = number;
        }

        // The rest before: the clinics the previous release did not show, as it then held them.
        Atoms? restBefore = null;
        if (hasPrevious && number > 1)
        {
            if (!earlier.TryGetValue(number - 1, out var then)) earlier[number - 1] = then = Atoms.PerClinic(await at(number - 1), restricted, measures);
            restBefore = Atoms.Sum(then.Where(c => !shownBefore.ContainsKey(c.Key)).Select(c => c.Value));
        }
        while (shown.Count > 0)
        {
            var rest = Atoms.Sum(perClinic.Where(c => !shown.ContainsKey(c.Key)).Select(c => c.Value));
            if (rest.Publishable(measure, k) && (restBefore is null || rest.MovedInSteps(restBefore, measure, k))) break;
            var smallest = shown.Keys.OrderBy(c => perClinic[c].Total(measure)).ThenBy(c => c, StringComparer.Ordinal).First();
            shown.Remove(smallest);
        }
        return shown;
    }
}
