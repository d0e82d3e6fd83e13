using MatOutcomes.Platform.Outcomes.Studying;

namespace MatOutcomes.Tests.Outcomes;

/// <summary>The start-up warm-up compiles the study code only if its made-up study goes through
/// every part of a study: a withheld or degenerate one would leave the first researcher's request
/// to compile the rest.</summary>
public class StudyWarmUpTests
{
    [Fact]
    public void The_warm_up_study_computes_every_part_of_a_study()
    {
        var study = StudyWarmUp.Run();

        Assert.False(study.Suppressed);
        Assert.False(study.AdjustedDurableChangeDifference.Suppressed);
        Assert.Equal(InferenceKind.ClusterRobust, study.AdjustedDurableChangeDifference.Inference);
        Assert.False(study.PropensityWeighted.Suppressed);
        Assert.True(study.PropensityWeighted.Converged);
        Assert.NotEmpty(study.Benchmarks);
        Assert.NotNull(study.Early.SessionsToMcid.N);
    }
}
