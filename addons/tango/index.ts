/**
 * Tango addons (Python Concert's `concert.experiments.addons.tango`): frames go from a remote
 * camera to Tango device servers (`concert tango walker|benchmarker|reco`, ours or Python
 * Concert's), which the session drives through Tango. The servers themselves are in `./server/`.
 * @module
 */
export { TangoAddon, TANGO_ADDON_OPTIONS, type TangoAddonOptions } from './addon.js';
export { TangoImageWriter, TangoImageWriter as ImageWriter } from './image-writer.js';
export {
  TangoBenchmarker,
  TangoBenchmarker as Benchmarker,
  TANGO_BENCHMARKER_OPTIONS,
  type TangoBenchmarkerOptions,
} from './benchmarker.js';
export {
  TangoOnlineReconstruction,
  TangoOnlineReconstruction as OnlineReconstruction,
  TANGO_RECONSTRUCTION_OPTIONS,
  type TangoReconstructionOptions,
} from './online-reconstruction.js';
export {
  TangoLiveView,
  TangoLiveView as LiveView,
  TANGO_LIVE_VIEW_OPTIONS,
  type TangoLiveViewOptions,
} from './live-view.js';
export { TangoDirectoryWalker, TangoDirectoryWalker as RemoteDirectoryWalker } from '../../walkers/tango.js';
export {
  startTangoServer,
  serveTangoForever,
  TANGO_SERVERS,
  type TangoServerKind,
  type TangoServeOptions,
} from './server/serve.js';
