using MatOutcomes.Contracts.Episodes;
using MatOutcomes.Platform.Outcomes.Cube;
using MatOutcomes.Platform.Outcomes.Projecting;

namespace MatOutcomes.Tests.Outcomes;

/// <summary>Snapshots are immutable while the writer goes on changing cells: a change after a
/// snapshot copies the chunk it touches, so the snapshot must still read what it was given.</summary>
public class CubeSnapshotTests
{
    private static readonly string[] Quarters = ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2"];

    private static CellKey Key(int i) => new($"clinic-{i % 300:000}", Quarters[i / 300 % Quarters.Length], FormatClass.StandaloneMat,
        true, (PainDuration)(i / 1800 % 5), (ComplaintRegion)(i / 9000 % 4), OccupationGroup.DeskStressful, AgeBand.From40To49, Sex.Female);

    private static CellStats Episodes(int n) => new(n, default, default, [], []);

    private static List<(long Key, int Episodes)> Read(CubeTable table)
    {
        var cells = new List<(long, int)>();
        foreach (var cell in table.Cells) cells.Add((cell.Key, cell.Stats.Episodes));
        return cells;
    }

    private static int EpisodesOf(CubeSnapshot snapshot, CellKey key)
    {
        foreach (var cell in snapshot.Fine.Cells)
            if (CubeKeys.Unpack(cell.Key, snapshot.Clinics).Id == key.Id) return cell.Stats.Episodes;
        throw new InvalidOperationException($"{key.Id} is not in the snapshot");
    }

    [Fact]
    public void A_snapshot_reads_what_it_was_given_while_the_writer_changes_and_appends_cells_across_chunks()
    {
        const int n = 2 * CellChunks.Size + 500;
        var writer = new CubeWriter(new ClinicDirectory());
        writer.Load(Enumerable.Range(0, n).Select(i => (Key(i), Episodes(1))));
        var first = writer.Publish(live: true);
        var firstFine = Read(first.Fine);
        var firstRollups = first.Tables.Skip(1).Select(Read).ToList();
        Assert.Equal(n, firstFine.Count);

        writer.Set(Key(3), Episodes(5));                           // first chunk
        writer.Set(Key(CellChunks.Size + 7), Episodes(0));         // second chunk, emptied
        writer.Set(Key(n), Episodes(2));                           // appended to the last chunk
        var second = writer.Publish(live: true);

        Assert.Equal(firstFine, Read(first.Fine));
        Assert.Equal(firstRollups, first.Tables.Skip(1).Select(Read).ToList());
        Assert.Equal(n + 1, second.Fine.Count);
        Assert.Equal(n + 4 - 1 + 2, Read(second.Fine).Sum(c => c.Episodes));
        foreach (var table in second.Tables) Assert.Equal(n + 4 - 1 + 2, Read(table).Sum(c => c.Episodes));

        // Enough new cells to open a new chunk, then a change to a chunk the second snapshot shares.
        for (var i = n + 1; i <= 3 * CellChunks.Size + 10; i++) writer.Set(Key(i), Episodes(1));
        writer.Set(Key(3), Episodes(9));
        var third = writer.Publish(live: true);

        Assert.Equal(firstFine, Read(first.Fine));
        Assert.Equal(1, EpisodesOf(first, Key(3)));
        Assert.Equal(5, EpisodesOf(second, Key(3)));
        Assert.Equal(9, EpisodesOf(third, Key(3)));
        Assert.Equal(3 * CellChunks.Size + 11, third.Fine.Count);
        Assert.Throws<IndexOutOfRangeException>(() => second.Fine.Cells[second.Fine.Count]);
    }

    [Fact]
    public void A_changed_cell_is_held_once_as_the_object_given_and_the_roll_ups_still_sum_it()
    {
        var writer = new CubeWriter(new ClinicDirectory());
        writer.Load(Enumerable.Range(0, 10).Select(i => (Key(i), Episodes(1))));
        var changed = new CellStats(5, default, default, [3, 40], [2, 3]);
        writer.Set(Key(3), changed);
        var snapshot = writer.Publish(live: true);

        var held = snapshot.Fine.Cells.GetEnumerator();
        CellStats? found = null;
        while (held.MoveNext())
            if (CubeKeys.Unpack(held.Current.Key, snapshot.Clinics).Id == Key(3).Id) found = held.Current.Stats;
        Assert.Same(changed, found);
        foreach (var rollUp in snapshot.Tables.Skip(1))
            Assert.Equal(9 + 5, Read(rollUp).Sum(c => c.Episodes));
    }

    [Fact]
    public void Count_arrays_of_ones_are_shared_and_others_are_kept_as_given()
    {
        var first = new CellStats(1, default, default, [0, 20, 1100], [1, 1, 1]);
        var second = new CellStats(1, default, default, [5, 30, 1200], [1, 1, 1]);
        Assert.Same(first.Counts, second.Counts);
        Assert.Equal([1, 1, 1], second.Counts);

        int[] twos = [1, 2, 1];
        Assert.Same(twos, new CellStats(3, default, default, [0, 20, 1100], twos).Counts);
        Assert.NotSame(first.Counts, new CellStats(1, default, default, [0, 20], [1, 1]).Counts);
    }

    [Fact]
    public void Remembered_answers_are_bounded_apart_from_the_structures_and_concurrent_callers_share_one_computation()
    {
        var snapshot = new CubeWriter(new ClinicDirectory()).Publish(live: true);
        var built = 0;
        object Structure(CubeSnapshot _) { Interlocked.Increment(ref built); Thread.Sleep(50); return new object(); }

        var first = snapshot.Memo("structure", Structure);
        var answers = 0;
        for (var i = 0; i < 3 * CubeSnapshot.RememberedAnswers; i++) snapshot.Remember($"answer:{i}", _ => { answers++; return new object(); });
        Assert.Same(first, snapshot.Memo("structure", Structure));
        Assert.Equal(1, built);
        Assert.Equal(3 * CubeSnapshot.RememberedAnswers, answers);
        // The last answer is still remembered; the first ones were forgotten.
        snapshot.Remember($"answer:{3 * CubeSnapshot.RememberedAnswers - 1}", _ => { answers++; return new object(); });
        Assert.Equal(3 * CubeSnapshot.RememberedAnswers, answers);
        snapshot.Remember("answer:0", _ => { answers++; return new object(); });
        Assert.Equal(3 * CubeSnapshot.RememberedAnswers + 1, answers);

        var results = new object[8];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => results[i] = snapshot.Memo("shared", Structure));
        Assert.Equal(2, built);
        Assert.All(results, r => Assert.Same(results[0], r));

        Assert.Throws<InvalidOperationException>(() => snapshot.Memo<object>("failing", _ => throw new InvalidOperationException()));
        Assert.Same(first, snapshot.Memo("failing", _ => first));
    }

    [Fact]
    public void A_full_answer_cache_forgets_the_least_recently_used_answer_not_all_of_them()
    {
        var snapshot = new CubeWriter(new ClinicDirectory()).Publish(live: true);
        var computed = new List<int>();
        object Answer(int i) => snapshot.Remember($"answer:{i}", _ => { computed.Add(i); return new object(); });

        var kept = Enumerable.Range(0, CubeSnapshot.RememberedAnswers).Select(Answer).ToList();
        Assert.Same(kept[0], Answer(0)); // the oldest, used again: now the most recent
        Answer(CubeSnapshot.RememberedAnswers); // one more than fits: answer 1 goes

        computed.Clear();
        Assert.Same(kept[0], Answer(0));
        for (var i = 2; i < CubeSnapshot.RememberedAnswers; i++) Assert.Same(kept[i], Answer(i));
        Assert.Empty(computed);
        Answer(1);
        Assert.Equal([1], computed);
    }
}
