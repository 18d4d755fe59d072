import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { nanoid } from 'nanoid';

interface Item {
  id: string;
  name: string;
  table: string;
}

/** POST /items with a JSON body `{"name": "..."}`. */
export const create = async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyResultV2> => {
  const raw = event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : (event.body ?? '{}');
  let input: { name?: unknown };
  try {
    input = JSON.parse(raw) as { name?: unknown };
  } catch {
    return { statusCode: 400, body: JSON.stringify({ message: 'body must be JSON' }) };
  }
  if (typeof input.name !== 'string' || input.name === '') {
    return { statusCode: 400, body: JSON.stringify({ message: 'name is required' }) };
  }
  const item: Item = { id: nanoid(), name: input.name, table: process.env.TABLE ?? 'unset' };
  console.log('created item', item.id, 'in', context.functionName);
  return { statusCode: 201, headers: { location: `/items/${item.id}` }, body: JSON.stringify(item) };
};

/** GET /items/{id}: returning an object without statusCode makes a 200 JSON response. */
export const get = async (event: APIGatewayProxyEventV2) => ({
  id: event.pathParameters?.id,
  requestedAt: event.requestContext.time,
});
