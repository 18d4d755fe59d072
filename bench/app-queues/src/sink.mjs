// Reports how long each message took from its send to this function (the clocks are the same machine's).
export const handler = async (event) => {
  const now = Date.now();
  console.log(`hops ${event.Records.map((r) => now - Number(r.body)).join(' ')}`);
};
