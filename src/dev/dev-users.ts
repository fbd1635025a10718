import type { DevUser } from "./oidc-login.js";

/** The console's dev sign-ins, with the roles examples/policies/dev.cedar gives `dev:<username>`. */
export const DEV_USERS: DevUser[] = [
  {
    username: "operator",
    name: "Dev Operator",
    role: "operator: emergency revocation, audit, and may approve",
  },
  { username: "approver", name: "Dev Approver", role: "approver: decides held credential requests" },
  { username: "auditor", name: "Dev Auditor", role: "auditor: reads tasks, evidence and the audit log" },
];

export const DEV_CONSOLE_CLIENT_ID = "credbroker-console";
