package moelab;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.Architectures.LayeredArchitecture;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * java-core's packages depend one way, bottom to top, over the compiled main classes. A new
 * package must be placed in {@link #LAYERS}; a layer may use only the layers before it.
 */
class LayeringTest {
    /** Bottom first. */
    static final List<List<String>> LAYERS = List.of(
            List.of("moelab.config"),
            List.of("moelab.fuzz"),
            List.of("moelab.tensor"),
            List.of("moelab.kernels"),
            List.of("moelab.dist"),
            List.of("moelab.ops"),
            List.of("moelab.routing"),
            List.of("moelab.routing.mar"),
            List.of("moelab.losses"),
            List.of("moelab.metrics"),
            List.of("moelab.data"),
            List.of("moelab.nn"),
            List.of("moelab.train"),
            List.of("moelab.eval"));

    static final JavaClasses CORE = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
            .importPackages("moelab");

    @Test
    void everyPackageHasALayer() {
        assertTrue(CORE.contain(moelab.nn.Transformer.class), "the main classes were not found");
        Set<String> placed = LAYERS.stream().flatMap(List::stream).collect(Collectors.toSet());
        Set<String> unplaced = new TreeSet<>();
        for (JavaClass c : CORE) if (!placed.contains(c.getPackageName())) unplaced.add(c.getPackageName());
        assertEquals(Set.of(), unplaced, "packages missing from LayeringTest.LAYERS");
    }

    @Test
    void layersDependOnlyDownwards() {
        layers().check(CORE);
    }

    @Test
    void noPackageCycles() {
        slices().assignedFrom(byLayerUnit()).should().beFreeOfCycles().check(CORE);
    }

    @Test
    void knowsNoBackEnd() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("moelab.simd..", "moelab.nativ..", "moelab.cuda..")
                .because("back ends plug in through KernelsProvider; java-core names none of them")
                .check(CORE);
    }

    /** Layer i may be used only by layers i+1..n; the top layer by none. */
    static LayeredArchitecture layers() {
        LayeredArchitecture arch = layeredArchitecture().consideringOnlyDependenciesInLayers();
        for (int i = 0; i < LAYERS.size(); i++) arch = arch.layer(name(i)).definedBy(LAYERS.get(i).toArray(String[]::new));
        for (int i = 0; i < LAYERS.size() - 1; i++) {
            String[] above = java.util.stream.IntStream.range(i + 1, LAYERS.size()).mapToObj(LayeringTest::name).toArray(String[]::new);
            arch = arch.whereLayer(name(i)).mayOnlyBeAccessedByLayers(above);
        }
        return arch.whereLayer(name(LAYERS.size() - 1)).mayNotBeAccessedByAnyLayer();
    }

    private static String name(int layer) { return String.join("+", LAYERS.get(layer)); }

    /** One slice per package, except that the packages of one layer form one slice. */
    static SliceAssignment byLayerUnit() {
        return new SliceAssignment() {
            @Override public SliceIdentifier getIdentifierOf(JavaClass c) {
                for (int i = 0; i < LAYERS.size(); i++)
                    if (LAYERS.get(i).contains(c.getPackageName())) return SliceIdentifier.of(name(i));
                return SliceIdentifier.of(c.getPackageName());
            }

            @Override public String getDescription() { return "java-core packages (" + Arrays.toString(LAYERS.toArray()) + ")"; }
        };
    }
}
