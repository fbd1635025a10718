/** The copy-pasteable agent journey printed when dev mode starts (also in the README quick start). */
export function devWalkthrough(info: { publicUrl: string; redisUrl: string; redisOrigin: string }): string {
  const u = info.publicUrl;
  const field = (name: string) => `node -pe 'JSON.parse(require("fs").readFileSync(0,"utf8")).${name}'`;
  return `
credbroker dev mode is up at ${u}  (Redis: ${info.redisUrl}, ${info.redisOrigin})

Walk the agent journey (in another shell, from the repository root):

  AGENT=$(./bin/credbroker.js token --sub summariser)
  TASK=$(curl -s -X POST ${u}/v1/tasks -H "Authorization: Bearer $AGENT" -H 'Content-Type: application/json' \\
    -d '{"intent":"Summarise Q3 incidents","ttl_seconds":900,"initiator":{"subject":"alice@example.com"}}' | ${field("task_id")})
  TOKEN=$(curl -s -X POST ${u}/v1/tasks/$TASK/credentials -H "Authorization: Bearer $AGENT" -H 'Content-Type: application/json' \\
    -d '{"profile":"tickets-api","ttl_seconds":300,"scopes":["tickets:read"],"reason":"list open incidents"}' | ${field("secret.token")})
  ./bin/credbroker.js verify --jwks ${u}/.well-known/jwks.json --token "$TOKEN"     # signature + claims, as a resource server would
  curl -s -X POST ${u}/v1/introspect -H "Authorization: Bearer $AGENT" -H 'Content-Type: application/json' -d "{\\"token\\":\\"$TOKEN\\"}"   # active: true
  curl -s -X POST ${u}/v1/tasks/$TASK/close -H "Authorization: Bearer $AGENT"
  curl -s -X POST ${u}/v1/introspect -H "Authorization: Bearer $AGENT" -H 'Content-Type: application/json' -d "{\\"token\\":\\"$TOKEN\\"}"   # active: false

Console: open ${u}/console/ and sign in as operator, approver or auditor (docs/console.md).
Operator: OPS=$(./bin/credbroker.js token --sub operator); curl -s ${u}/v1/audit -H "Authorization: Bearer $OPS"
Ctrl-C stops the broker.
`;
}
