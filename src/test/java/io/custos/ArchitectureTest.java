package io.custos;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

class ArchitectureTest {
    private final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.custos");

    @Test
    void coreNeverDependsOnTheCommandLine() {
        noClasses()
                .that()
                .resideOutsideOfPackage("io.custos.cli..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("io.custos.cli..", "picocli..")
                .check(classes);
    }

    @Test
    void onlyMainExits() {
        noClasses()
                .that()
                .doNotHaveFullyQualifiedName("io.custos.cli.Main")
                .should()
                .callMethod(System.class, "exit", int.class)
                .check(classes);
    }
}
