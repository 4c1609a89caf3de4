package io.jshim.shim.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The SLF4J provider the installed shim names outright ({@code -Dslf4j.provider} in {@code jvm.options}): a logback
 * context configured by {@link LogSetup} directly. Logback's own provider would find that configurator through a
 * ServiceLoader (opening the whole jar, which the AOT cache otherwise spares a cold daemon) and
 * then print its status "in case of errors", whose date formatter loads the time-zone database, for a
 * context that has no status to print. A JVM without the property (the tests') gets logback's provider and the
 * same configuration through {@code META-INF/services}.
 */
public final class LogProvider implements SLF4JServiceProvider {
    private final LoggerContext context = new LoggerContext();
    private final IMarkerFactory markers = new BasicMarkerFactory();
    private final LogbackMDCAdapter mdc = new LogbackMDCAdapter();

    @Override
    public void initialize() {
        context.setName("default");
        context.setMDCAdapter(mdc);
        new LogSetup().configure(context);
        context.start();
    }

    @Override
    public ILoggerFactory getLoggerFactory() {
        return context;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return markers;
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return mdc;
    }

    @Override
    public String getRequestedApiVersion() {
        return "2.0.99";
    }
}
