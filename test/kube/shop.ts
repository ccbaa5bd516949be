/** The backend the Kubernetes suites deploy: namespace `shop`, Service `backend` (port http: 80 to the pods' 8080), its pods and nodes. */

export const SHOP = `
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: v1
kind: Service
metadata: { name: backend, namespace: shop }
spec:
  selector: { app: backend }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
`;

/** A Node object (pods bound to it are taken by the EndpointSlice controller), in a zone. */
export const node = (name: string, zone?: string): string => `---
apiVersion: v1
kind: Node
metadata: { name: ${name}${zone ? `, labels: { topology.kubernetes.io/zone: ${zone} }` : ''} }
`;

/** A pod of the backend, bound to `node` (no scheduler runs). */
export const backendPod = (name: string, nodeName: string): string => `---
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: shop, labels: { app: backend } }
spec:
  nodeName: ${nodeName}
  containers: [{ name: app, image: registry.example/backend:1, ports: [{ containerPort: 8080 }] }]
`;
