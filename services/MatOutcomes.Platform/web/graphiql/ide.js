// GraphiQL for the MatOutcomes research gateway. The researcher's token lives in localStorage
// (or arrives once as ?token=) and goes to /graphql as a bearer header; nothing leaves this origin.
(function () {
  'use strict';

  var storageKey = 'matoutcomes.gateway.token';
  var endpoint = new URL('../../graphql', window.location.href).toString();
  var input = document.getElementById('token');
  var status = document.getElementById('token-status');

  // A token in the address would stay in history and logs: take it, then drop it from the URL.
  var params = new URLSearchParams(window.location.search);
  if (params.has('token')) {
    localStorage.setItem(storageKey, params.get('token').trim());
    params.delete('token');
    var rest = params.toString();
    history.replaceState(null, '', window.location.pathname + (rest ? '?' + rest : '') + window.location.hash);
  }

  function token() { return localStorage.getItem(storageKey) || ''; }
  function showStatus() { status.textContent = token() ? 'token set' : 'no token: queries will be refused (401)'; }

  input.value = token();
  document.getElementById('use-token').addEventListener('click', function () {
    localStorage.setItem(storageKey, input.value.trim());
    showStatus();
  });
  document.getElementById('forget-token').addEventListener('click', function () {
    localStorage.removeItem(storageKey);
    input.value = '';
    showStatus();
  });
  showStatus();

  async function fetcher(request) {
    var headers = {
      'Content-Type': 'application/json',
      'Accept': 'application/graphql-response+json, application/json;q=0.9',
    };
    if (token()) headers.Authorization = 'Bearer ' + token();
    var response = await fetch(endpoint, { method: 'POST', headers: headers, body: JSON.stringify(request) });
    var type = response.headers.get('Content-Type') || '';
    var body = await response.json().catch(function () { return null; });
    // 401, 403 and 429 are RFC 7807 problems, not GraphQL responses: show them as errors.
    if (type.indexOf('application/problem+json') === 0 || body === null) {
      var detail = body ? (body.title + (body.detail ? ': ' + body.detail : '')) : response.statusText;
      return { errors: [{ message: response.status + ' ' + detail }] };
    }
    return body;
  }

  var defaultQuery = [
    '# MatOutcomes research gateway: set your researcher token above, then run (Ctrl+Enter).',
    '# Every figure names the event sequence it reflects; pass it as asOf to reproduce it.',
    'query EarlyVersusChronic {',
    '  readModel { sequence k }',
    '  cohortComparison(filter: { regions: [LOW_BACK, NECK] }) {',
    '    sequence suppressed suppressionReason',
    '    early { episodes durableNprsChange { mean lower upper } nprsResponders { proportion lower upper } }',
    '    chronic { episodes durableNprsChange { mean lower upper } nprsResponders { proportion lower upper } }',
    '    durableChangeDifference { estimate lower upper }',
    '    adjustedDurableChangeDifference { estimate lower upper }',
    '    numberNeededToTreat { estimate lower upper ciIncludesInfinity }',
    '  }',
    '}',
    '',
  ].join('\n');

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, { fetcher: fetcher, defaultQuery: defaultQuery, shouldPersistHeaders: false }));
})();
