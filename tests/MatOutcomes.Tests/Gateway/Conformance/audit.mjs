// graphql-http's GraphQL-over-HTTP server audits against one endpoint, every request with the
// given bearer token (the gateway serves researchers only). Prints the results as one JSON array.
//   node audit.mjs <url> <token>
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node audit.mjs <url> <token>');
  process.exit(2);
}

const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
const described = await Promise.all(results.map(async ({ id, name, status, reason, response }) => ({
  id, name, status, reason,
  // What the server said, for a failure's message.
  response: status === 'ok' ? undefined : { status: response.status, contentType: response.headers.get('content-type'), body: await response.text().catch(() => '') },
})));
console.log(JSON.stringify(described));
