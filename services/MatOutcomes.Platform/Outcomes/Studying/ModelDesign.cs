using MatOutcomes.Platform.Outcomes.Cube;

namespace MatOutcomes.Platform.Outcomes.Studying;

/// <summary>The outcome-free half of a study's per-clinic regression sums, for one design (the cells
/// its filter selects and which of them are early): each clinic's X'X and change sums, and the scored
/// cells. Studies of one design that differ only in their responder definition (a sensitivity
/// analysis over MCIDs) then take only the responder sums from the cells' pairs, instead of every
/// cell's full regression sums again: at 1M events a network-wide study's clinic sums went from a
/// pass of ~60,000 cells with a 6 × 6 outer product each to a pass that adds a few integers per
/// scored cell. Integer sums throughout, so a study's sums are the same, bit for bit, whether its
/// design was remembered or not.</summary>
public sealed class ModelDesign
{
    private readonly FlatTable _table;
    /// <summary>Per clinic index: the design's sums with no responder part; null for a clinic with no matching cell.</summary>
    private readonly ModelSums?[] _clinics;
    /// <summary>The matching cells with latest-NPRS pairs, and whether each is early.</summary>
    private readonly int[] _cells;
    private readonly bool[] _early;

    private ModelDesign(FlatTable table, ModelSums?[] clinics, int[] cells, bool[] early) =>
        (_table, _clinics, _cells, _early) = (table, clinics, cells, early);

    /// <summary>The model's sums per clinic (by index) over the cells <paramref name="filter"/> selects.
    /// A design asked for a second time is kept (<see cref="CubeSnapshot.Repeated{T}"/>): the study that
    /// keeps it takes its own sums from the same pass, and later ones add only their responders.</summary>
    public static Dictionary<int, ModelSums> ClinicSums(CubeSnapshot snapshot, CellFilter filter, StudyQuery query)
    {
        var responders = query.NprsRule.Table();
        Dictionary<int, ModelSums>? own = null;
        var design = snapshot.Repeated($"model-design:{filter.Key}:{query.ChronicFromWeeks}", s =>
        {
            var scan = Scan(s, filter, query, responders, keep: true);
            own = scan.Sums;
            // The kept sums share the pass's arrays, without its responders.
            var clinics = new ModelSums?[scan.Clinics.Length];
            for (var c = 0; c < clinics.Length; c++)
                if (scan.Clinics[c] is { } sums) clinics[c] = ModelSums.SharingChange(sums);
            return new ModelDesign(scan.Table, clinics, scan.Cells, scan.Early);
        });
        return own ?? design?.Sums(responders) ?? Scan(snapshot, filter, query, responders, keep: false).Sums;
    }

    /// <summary>One pass over the clinic table: every matching cell's full sums, and (when kept) the cells that have pairs.</summary>
    private static (FlatTable Table, ModelSums?[] Clinics, int[] Cells, bool[] Early, Dictionary<int, ModelSums> Sums) Scan(
        CubeSnapshot snapshot, CellFilter filter, StudyQuery query, bool[] responders, bool keep)
    {
        var perClinic = new ModelSums?[snapshot.Clinics.Count];
        var table = snapshot.Flat(snapshot.TableFor(filter.Restricted | Dimension.Covariates | Dimension.Clinic));
        var (cells, early) = (new List<int>(), new List<bool>());
        for (var i = 0; i < table.Count; i++)
        {
            var key = table.Keys[i];
            if (table.Episodes[i] == 0 || !filter.Matches(key)) continue;
            var isEarly = query.IsEarly(PackedKey.Duration(key));
            (perClinic[PackedKey.Clinic(key)] ??= new ModelSums()).Add(table, i, isEarly, responders);
            if (!keep || table.PairStart[i] == table.PairStart[i + 1]) continue;
            cells.Add(i);
            early.Add(isEarly);
        }
        return (table, perClinic, [.. cells], [.. early], ByIndex(perClinic));
    }

    /// <summary>The design's sums with the responder sums of <paramref name="responders"/> (see
    /// <see cref="NprsRule.Table"/>): each clinic's X'X and change sums are the design's, shared.</summary>
    private Dictionary<int, ModelSums> Sums(bool[] responders)
    {
        var perClinic = new ModelSums?[_clinics.Length];
        for (var c = 0; c < _clinics.Length; c++)
            if (_clinics[c] is { } design) perClinic[c] = ModelSums.SharingChange(design);
        var table = _table;
        for (var j = 0; j < _cells.Length; j++)
        {
            var i = _cells[j];
            long responded = 0, respondedBaseline = 0;
            for (var p = table.PairStart[i]; p < table.PairStart[i + 1]; p++)
            {
                if (!responders[table.PairBaseline[p] * 11 + table.PairScore[p]]) continue;
                responded += table.PairCount[p];
                respondedBaseline += (long)table.PairCount[p] * table.PairBaseline[p];
            }
            if (responded == 0) continue;
            var key = table.Keys[i];
            perClinic[PackedKey.Clinic(key)]!.AddResponders(key, _early[j], responded, respondedBaseline);
        }
        return ByIndex(perClinic);
    }

    /// <summary>The clinics that have sums, by index.</summary>
    private static Dictionary<int, ModelSums> ByIndex(ModelSums?[] perClinic)
    {
        var sums = new Dictionary<int, ModelSums>();
        for (var c = 0; c < perClinic.Length; c++)
            if (perClinic[c] is { } clinic) sums[c] = clinic;
        return sums;
    }
}
