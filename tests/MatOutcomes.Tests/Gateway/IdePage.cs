using Microsoft.Playwright;

namespace MatOutcomes.Tests.Gateway;

/// <summary>What a researcher does in GraphiQL at /graphql/ide: open it with a token, type a
/// query, run it and read the result pane.</summary>
public static class IdePage
{
    public static async Task OpenAsync(IPage page, Uri platform, string token)
    {
        await page.GotoAsync(new Uri(platform, $"/graphql/ide?token={token}").ToString());
        await page.WaitForSelectorAsync(".graphiql-container .graphiql-query-editor .CodeMirror");
    }

    /// <summary>Runs <paramref name="query"/> (one operation named <paramref name="operationName"/>)
    /// and returns the result pane's text once it holds <paramref name="expectedField"/>.</summary>
    public static async Task<string> RunAsync(IPage page, string query, string operationName, string expectedField)
    {
        await page.EvaluateAsync("query => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(query)", query);
        // GraphiQL derives the operation name from the editor after a debounce; run only once
        // its tab state names the new operation, as a person would after typing.
        await page.WaitForFunctionAsync("""
            name => {
              const state = JSON.parse(localStorage.getItem('graphiql:tabState') || 'null');
              return state && state.tabs[state.activeTabIndex].operationName === name;
            }
            """, operationName);
        await page.ClickAsync(".graphiql-execute-button");
        var result = await page.WaitForFunctionAsync("""
            field => {
              const editor = document.querySelector('.graphiql-response .CodeMirror');
              const text = editor && editor.CodeMirror.getValue();
              return text && text.includes('"' + field + '"') ? text : null;
            }
            """, expectedField, new PageWaitForFunctionOptions { Timeout = 15_000 });
        return await result.JsonValueAsync<string>();
    }
}
