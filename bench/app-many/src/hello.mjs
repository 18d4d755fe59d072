/** Does as little as a function can, so that the bench measures the platform, not the handler. */
export const handler = async () => ({
  statusCode: 200,
  headers: { 'content-type': 'text/plain' },
  body: 'hello',
});
