import protobuf from 'protobufjs';

/**
 * A view of a message type that decodes only the named fields, with every message-typed one
 * left as its bytes (a Buffer over the input, not a copy). Field numbers, names and rules come
 * from `type` itself. For hot paths that read a few fields of a large message: an xDS request
 * repeats its node on every request, and decoding that node (metadata Struct and all) each time
 * cost more than the rest of the request.
 */
export function wireView(type: protobuf.Type, fieldNames: readonly string[]): protobuf.Type {
  const view = new protobuf.Type(type.name);
  for (const name of fieldNames) {
    const field = type.fields[name];
    if (!field) throw new Error(`${type.fullName} has no field ${name}`);
    if (field instanceof protobuf.MapField) {
      if (field.resolve().resolvedType) throw new Error(`${type.fullName}.${name}: maps of messages are not viewable`);
      view.add(new protobuf.MapField(name, field.id, field.keyType, field.type));
      continue;
    }
    const message = field.resolve().resolvedType instanceof protobuf.Type;
    view.add(new protobuf.Field(name, field.id, message ? 'bytes' : field.type, field.repeated ? 'repeated' : undefined));
  }
  new protobuf.Root().add(view).resolveAll();
  return view;
}

/** A field of a decoded view that was on the wire (protobufjs keeps defaults on the prototype). */
export function present(message: object, name: string): boolean {
  return Object.hasOwn(message, name);
}
