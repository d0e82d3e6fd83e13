using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Platform.Outcomes.Cube;

/// <summary>Builds cube snapshots: takes fine cells as they change and keeps the roll-ups and the
/// per-clinic sums current by subtracting each cell's old statistics and adding its new ones, so
/// an update costs O(changed cells), never O(all cells). Not thread-safe: one writer; the snapshots
/// it publishes are immutable (arrays handed to a snapshot are copied before the next change).</summary>
public sealed class CubeWriter
{
    /// <summary>The fine grain, then the roll-ups a query may be answered from.</summary>
    public static readonly Dimension[] Grains =
    [
        Dimension.All,
        Dimension.Clinic | Dimension.Completed | Dimension.Covariates,
        Dimension.Quarter | Dimension.Format | Dimension.Completed | Dimension.Covariates,
        Dimension.Completed | Dimension.Covariates,
        // A cohort's outcomes by band need only the duration besides what a filter restricts: a study
        // by format or period alone sums a few hundred cells here instead of the ~20,000 of the grain
        // above at 1M events, however many episodes the network has. Building it takes 35-70 ms of the
        // ~700 ms a release at 1M takes to load. (One grain per covariate as well took the 1M one-client
        // p99 of distinct studies from 18.4-19.0 to 17.7-18.3 ms, but loading a release then took ~200 ms
        // longer, and a restarted node's first answer waits for that load.)
        Dimension.Quarter | Dimension.Format | Dimension.Completed | Dimension.Duration,
    ];

    private sealed class Grain(Dimension kept)
    {
        public readonly Dimension Kept = kept;
        public readonly long Mask = PackedKey.Mask(kept);
        public readonly Dictionary<long, int> Index = [];
        private CubeCell[][] _chunks = [];
        /// <summary>Chunks this writer copied since the last snapshot took them (free to change).</summary>
        private bool[] _owned = [];
        private bool _shared;
        public int Count;

        public CubeCell this[int at] => _chunks[at >> CellChunks.Shift][at & CellChunks.Mask];

        /// <summary>The cells as a snapshot keeps them: from now on a change copies what it touches.</summary>
        public CellChunks Share()
        {
            _shared = true;
            return new CellChunks(_chunks, Count);
        }

        /// <summary>Sets a roll-up cell on a fresh grain (loading).</summary>
        public void Put(long rolled, CellStats stats)
        {
            Index[rolled] = Count;
            Append(new CubeCell(rolled, stats));
        }

        /// <summary>A fine cell's statistics; null when the grain has no such cell.</summary>
        public CellStats? Get(long key) => Index.TryGetValue(key, out var at) ? this[at].Stats : null;

        /// <summary>Replaces a fine cell's statistics with <paramref name="stats"/> itself (the fine
        /// grain holds the very objects it is given: no second copy of a changed cell).</summary>
        public void Set(long key, CellStats stats)
        {
            if (Index.TryGetValue(key, out var at)) Writable(at >> CellChunks.Shift)[at & CellChunks.Mask] = new CubeCell(key, stats);
            else Put(key, stats);
        }

        public void Add(long key, CellStats stats, int sign)
        {
            var rolled = key & Mask;
            if (Index.TryGetValue(rolled, out var at))
            {
                Writable(at >> CellChunks.Shift)[at & CellChunks.Mask] = new CubeCell(rolled, this[at].Stats.Plus(stats, sign));
                return;
            }
            Index[rolled] = Count;
            Append(new CubeCell(rolled, CellStats.Empty.Plus(stats, sign)));
        }

        private void Append(CubeCell cell)
        {
            Unshare();
            if (Count == _chunks.Length * CellChunks.Size)
            {
                Array.Resize(ref _chunks, _chunks.Length + 1);
                Array.Resize(ref _owned, _chunks.Length);
                _chunks[^1] = new CubeCell[CellChunks.Size];
                _owned[^1] = true;
            }
            Writable(Count >> CellChunks.Shift)[Count & CellChunks.Mask] = cell;
            Count++;
        }

        private CubeCell[] Writable(int chunk)
        {
            Unshare();
            if (!_owned[chunk])
            {
                _chunks[chunk] = (CubeCell[])_chunks[chunk].Clone();
                _owned[chunk] = true;
            }
            return _chunks[chunk];
        }

        /// <summary>A snapshot holds the chunk list: take a copy of the list (a few references),
        /// and treat every chunk as the snapshot's until copied.</summary>
        private void Unshare()
        {
            if (!_shared) return;
            _chunks = (CubeCell[][])_chunks.Clone();
            _owned = new bool[_chunks.Length];
            _shared = false;
        }
    }

    private readonly ClinicDirectory _clinics;
    /// <summary>The fine grain first (it is the cells: no separate map of them is kept), then the roll-ups.</summary>
    private readonly Grain[] _grains;
    private Dictionary<int, ClinicOutcomes> _clinicOutcomes = [];
    private bool _clinicOutcomesShared;
    private Dictionary<string, ClinicTally> _tallies = new(StringComparer.Ordinal);
    private bool _talliesShared;

    /// <param name="rollUps">Whether to keep the roll-ups. The live cube does not: studies read
    /// releases (whose cubes are built with them), and the live cells serve the dashboards' per-clinic
    /// sums and the next release's cut. Without them a node holds a third of the memory and an
    /// update touches one table instead of five.</param>
    public CubeWriter(ClinicDirectory clinics, bool rollUps = true)
    {
        _clinics = clinics;
        _grains = [.. (rollUps ? Grains : Grains[..1]).Select(g => new Grain(g))];
    }

    public long Sequence { get; set; }

    /// <summary>Fine cells held (empty ones included).</summary>
    public int FineCells => _grains[0].Count;

    /// <summary>Replaces one fine cell's statistics; returns the clinic's index when anything changed.</summary>
    public int? Set(CellKey key, CellStats stats)
    {
        var clinic = _clinics.IndexOf(key.Clinic);
        var packed = PackedKey.Pack(clinic, key);
        var old = _grains[0].Get(packed) ?? CellStats.Empty;
        if (old.SameAs(stats)) return null;
        _grains[0].Set(packed, stats);
        if (_grains.Length > 1)
        {
            var delta = stats.Plus(old, -1);
            foreach (var grain in _grains.AsSpan(1)) grain.Add(packed, delta, +1);
        }

        if (_clinicOutcomesShared)
        {
            _clinicOutcomes = new Dictionary<int, ClinicOutcomes>(_clinicOutcomes);
            _clinicOutcomesShared = false;
        }
        var outcomes = _clinicOutcomes.GetValueOrDefault(clinic) ?? ClinicOutcomes.Empty;
        _clinicOutcomes[clinic] = outcomes.With(packed, old, -1).With(packed, stats, +1);
        return clinic;
    }

    /// <summary>Loads many fine cells into an empty writer at once: each roll-up cell and each clinic's
    /// sums are built in one pass instead of one change at a time (a node starting up, a release, a replay).</summary>
    public void Load(IEnumerable<(CellKey Key, CellStats Stats)> cells)
    {
        if (_grains[0].Count > 0) throw new InvalidOperationException("Load fills an empty writer; Set changes a loaded one.");
        var byClinic = new Dictionary<int, List<(long, CellStats, int)>>();
        var fine = new Dictionary<long, CellStats>();
        foreach (var (key, stats) in cells)
        {
            if (stats.IsEmpty && stats.Slots.Length == 0) continue;
            var clinic = _clinics.IndexOf(key.Clinic);
            var packed = PackedKey.Pack(clinic, key);
            fine[packed] = fine.TryGetValue(packed, out var known) ? known.Plus(stats) : stats;
        }
        foreach (var (packed, stats) in fine)
        {
            var clinic = PackedKey.Clinic(packed);
            if (!byClinic.TryGetValue(clinic, out var list)) byClinic[clinic] = list = [];
            list.Add((packed, stats, +1));
        }
        // Each roll-up from the smallest grain already built that keeps its dimensions (sums of
        // integers, so exact from any finer grain): cells sorted by rolled key, runs summed.
        var built = new List<(Dimension Kept, long[] Keys, CellStats[] Stats)>
        {
            (Dimension.All, [.. fine.Keys], [.. fine.Values]),
        };
        foreach (var grain in _grains)
        {
            var (_, keys, stats) = built.Where(b => (b.Kept & grain.Kept) == grain.Kept).MinBy(b => b.Keys.Length);
            var rolled = Array.ConvertAll(keys, k => k & grain.Mask);
            var order = new int[rolled.Length];
            for (var i = 0; i < order.Length; i++) order[i] = i;
            Array.Sort(rolled, order);
            var parts = new List<CellStats>();
            for (var from = 0; from < rolled.Length;)
            {
                parts.Clear();
                var to = from;
                for (; to < rolled.Length && rolled[to] == rolled[from]; to++) parts.Add(stats[order[to]]);
                grain.Put(rolled[from], CellStats.Sum(parts));
                from = to;
            }
            built.Add((grain.Kept, [.. Enumerable.Range(0, grain.Count).Select(at => grain[at].Key)],
                [.. Enumerable.Range(0, grain.Count).Select(at => grain[at].Stats)]));
        }
        _clinicOutcomes = byClinic.ToDictionary(c => c.Key, c => ClinicOutcomes.Empty.WithAll(c.Value));
        _clinicOutcomesShared = false;
    }

    /// <summary>Adds one episode's contribution (as-of replays build cells this way).</summary>
    public void Add(Contribution contribution)
    {
        var clinic = _clinics.IndexOf(contribution.Key.Clinic);
        var packed = PackedKey.Pack(clinic, contribution.Key);
        var old = _grains[0].Get(packed) ?? CellStats.Empty;
        Set(contribution.Key, old.With(contribution, +1));
    }

    public void SetTally(ClinicTally tally)
    {
        if (_talliesShared)
        {
            _tallies = new Dictionary<string, ClinicTally>(_tallies, StringComparer.Ordinal);
            _talliesShared = false;
        }
        _tallies[tally.Id] = tally;
    }

    public ClinicTally? Tally(string clinic) => _tallies.GetValueOrDefault(clinic);

    public CubeSnapshot Publish(bool live)
    {
        _clinicOutcomesShared = _talliesShared = true;
        return new CubeSnapshot(Sequence, live, _clinics.Ids,
            [.. _grains.Select(g => new CubeTable(g.Kept, g.Share()))], _clinicOutcomes, _tallies);
    }
}
