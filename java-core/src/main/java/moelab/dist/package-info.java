/**
 * Data-parallel ranks: the {@link moelab.dist.Collective} interface that training and the
 * balancing methods call, and its one-process form. The MPI implementation lives in the
 * native module (loaded only for a data-parallel run).
 */
package moelab.dist;
