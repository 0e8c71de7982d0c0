// Entry module of the generated dispatch Worker. wfp-manifest.json is uploaded as a text
// module (text/plain), so it arrives as a string and is parsed once per isolate.
import manifestText from "./wfp-manifest.json";
import { createDispatcher, parseManifest } from "./dispatcher-core.mjs";

export default createDispatcher(parseManifest(manifestText));
